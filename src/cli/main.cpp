// The `yolo` command line: `yolo [task] mode key=value ...`, as Ultralytics' CLI.
#include <cstdio>
#include <exception>

int main(int, char**) {
  std::fprintf(stderr, "error: the yolo CLI is being assembled\n");
  return 2;
}
