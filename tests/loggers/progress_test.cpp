// The progress bar through the log sink: redrawn lines on a terminal, periodic kept lines elsewhere; the
// closing summary. Time comes from a fake clock: no wall-clock assertions.
#include <string>
#include <vector>

#include "catch.h"
#include "loggers/progress.h"
#include "yolo/utils/log.h"

using namespace yolo::loggers;

namespace {

struct Captured {
  std::string text;
  bool kept;  // ends with '\n': a final line every sink keeps
};

/// Installs a sink that records Progress and Info messages; restores the default on destruction.
struct CaptureLog {
  std::vector<Captured> lines;
  CaptureLog() {
    yolo::set_log_sink([this](yolo::LogLevel level, std::string_view m) {
      if (level != yolo::LogLevel::Progress && level != yolo::LogLevel::Info) return;
      const bool kept = level == yolo::LogLevel::Info || (!m.empty() && m.back() == '\n');
      lines.push_back({std::string(m.substr(0, kept && level == yolo::LogLevel::Progress ? m.size() - 1 : m.size())), kept});
    });
  }
  ~CaptureLog() { yolo::set_log_sink({}); }
};

}  // namespace

TEST_CASE("format_duration writes minutes and hours as tqdm does", "[loggers][progress]") {
  CHECK(format_duration(0) == "00:00");
  CHECK(format_duration(65.9) == "01:05");
  CHECK(format_duration(3723) == "1:02:03");
}

TEST_CASE("ProgressBar on a terminal redraws at most every redraw_interval and keeps the last line",
          "[loggers][progress]") {
  CaptureLog log;
  double now = 100;
  ProgressOptions options;
  options.interactive = true;
  ProgressBar bar(20, options, [&] { return now; });
  for (int i = 1; i <= 20; ++i) {
    now += 0.5;  // 2 it/s
    bar.update(i, "      1/30");
  }
  bar.close();
  REQUIRE(log.lines.size() == 21);  // every update (0.5 s apart > 0.1 s) plus the kept final line
  CHECK_FALSE(log.lines[8].kept);
  CHECK(log.lines[8].text == "      1/30:  45%|████▌     | 9/20 [00:04<00:05, 2.00it/s]");
  CHECK(log.lines.back().kept);
  CHECK(log.lines.back().text == "      1/30: 100%|██████████| 20/20 [00:10<00:00, 2.00it/s]");
}

TEST_CASE("ProgressBar without a terminal sends a kept line every plain_interval and the final one",
          "[loggers][progress]") {
  CaptureLog log;
  double now = 0;
  ProgressOptions options;
  options.interactive = false;
  options.plain_interval = 30;
  ProgressBar bar(100, options, [&] { return now; });
  for (int i = 1; i <= 100; ++i) {
    now += 1;  // 100 s in all: lines at 30, 60 and 90 s, then the final one
    bar.update(i, "train");
  }
  bar.close();
  bar.close();  // closing twice sends nothing more
  REQUIRE(log.lines.size() == 4);
  for (const auto& l : log.lines) CHECK(l.kept);
  CHECK(log.lines[0].text == "train:  30%|███       | 30/100 [00:30<01:10, 1.00it/s]");
  CHECK(log.lines[3].text == "train: 100%|██████████| 100/100 [01:40<00:00, 1.00it/s]");
}

TEST_CASE("ProgressBar shows seconds per step when steps are slow", "[loggers][progress]") {
  double now = 0;
  ProgressOptions options;
  options.interactive = false;
  ProgressBar bar(4, options, [&] { return now; });
  now = 5;
  bar.update(1, "val");
  CHECK(bar.line() == "val:  25%|██▌       | 1/4 [00:05<00:15, 5.00s/it]");
}

TEST_CASE("The closing summary names the run folder, best epoch and speeds", "[loggers][progress]") {
  RunSummary s;
  s.save_dir = "runs/detect/train";
  s.epochs = 30;
  s.seconds = 1941;
  s.best = EpochRecord{29, {{"time", 1870}, {"train/box_loss", 1.1}, {"metrics/mAP50(B)", 0.47812}, {"metrics/mAP50-95(B)", 0.3}}};
  s.speed = {{"preprocess", 0.21}, {"inference", 3.14}, {"loss", 0.0}, {"postprocess", 1.05}};
  CaptureLog log;
  log_summary(s);
  REQUIRE(log.lines.size() == 4);
  CHECK(log.lines[0].text == "30 epochs completed in 0.539 hours.");
  CHECK(log.lines[1].text == "Best epoch 29: mAP50(B) 0.4781, mAP50-95(B) 0.3000");
  CHECK(log.lines[2].text == "Speed: 0.2ms preprocess, 3.1ms inference, 0.0ms loss, 1.1ms postprocess per image");
  CHECK(log.lines[3].text == "Results saved to runs/detect/train");
}
