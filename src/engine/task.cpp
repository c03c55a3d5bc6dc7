#include "engine/task.h"

#include "yolo/utils/error.h"

namespace yolo::engine {

const Task& task_named(const std::string& name) {
  for (const Task* task : {&detect_task(), &classify_task()})
    if (task->name == name) return *task;
  YOLO_FAIL("task={} is not one yolocpp runs: detect or classify", name);
}

}  // namespace yolo::engine
