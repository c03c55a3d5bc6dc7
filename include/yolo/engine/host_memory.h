#pragma once
// Host (CPU) memory settings for training and inference loops.

namespace yolo::engine {

/// Keeps large freed blocks in the process heap instead of returning them to the kernel.
/// A training step allocates the same large activation tensors every iteration; with glibc's
/// defaults each one is a fresh mmap whose pages the kernel zeroes on first touch, which cost
/// ~40% of a CPU training step here (system time). Call once before a loop; later calls do nothing.
/// Set YOLO_KEEP_MALLOC_DEFAULTS=1 to opt out.
void keep_freed_memory_in_heap();

}  // namespace yolo::engine
