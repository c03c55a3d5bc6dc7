#include "utils/cpus.h"

#ifdef __linux__
#include <sched.h>
#endif

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

int64_t usable_cpus() {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max<int64_t>(1, std::thread::hardware_concurrency());
}

int64_t usable_cores() {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return usable_cpus();
  std::set<std::pair<std::string, std::string>> cores;  // (package, core) of each usable CPU, from sysfs
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    const std::string topology = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::string package, core;
    std::ifstream(topology + "physical_package_id") >> package;
    std::ifstream(topology + "core_id") >> core;
    if (package.empty() || core.empty()) return usable_cpus();  // no topology (some containers): count CPUs
    cores.emplace(package, core);
  }
  return std::max<int64_t>(1, static_cast<int64_t>(cores.size()));
#else
  return usable_cpus();
#endif
}

YOLO_END_NAMESPACE
