"""The rank launcher and the allocator switch: process-wide actions the script chooses (yolo/process.h)."""
import pytest

import yolo


def test_one_device_starts_nothing():
    ranks = yolo.RankLauncher(device="cpu")
    assert not ranks.is_worker
    assert ranks.rank == 0
    assert ranks.world_size == 1
    ranks.join()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="epochs"):
        yolo.RankLauncher(epoch=3)


def test_allocator_switch_is_callable_twice():
    yolo.keep_freed_memory_in_heap()
    yolo.keep_freed_memory_in_heap()
