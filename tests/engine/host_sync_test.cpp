// The training step never makes the host wait for the device: counted on the CPU by the calls that would
// (tests/helpers/sync_counter.h), for the optimizer, EMA and clipping, and for a whole training epoch.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <yolo/yolo.h>

#include "catch.h"
#include "engine/device.h"
#include "engine/ema.h"
#include "engine/optimizer.h"
#include "helpers/sync_counter.h"
#include "yolo/nn/model.h"
#include "yolo/nn/spec.h"

using yolo::test::HostSyncCounter;

TEST_CASE("the synchronisation counter sees scalar reads, data-dependent shapes and blocking copies",
          "[engine][sync]") {
  const auto t = torch::arange(6, torch::kFloat32);
  HostSyncCounter syncs;
  (void)t.sum().item<float>();                    // a scalar read
  (void)t.index({t.gt(2)});                       // a boolean mask: nonzero decides the shape
  (void)t.to(torch::kCPU);                        // a blocking copy to the host (from a device)
  (void)t.to(torch::Device(torch::kCPU), torch::kFloat32, /*non_blocking=*/false);
  (void)t.to(torch::Device(torch::kCPU), torch::kFloat32, /*non_blocking=*/true);  // not blocking
  (void)(t * 2).masked_fill(t.gt(2), 0).sum();    // fixed shapes: nothing
  (void)yolo::engine::read_to_host(t);            // the sanctioned read
  INFO(syncs.describe());
  CHECK(syncs.unexpected().at("aten::_local_scalar_dense") == 1);
  CHECK(syncs.unexpected().at("aten::nonzero") == 1);
  CHECK(syncs.unexpected().at("aten::to") == 2);
  CHECK(syncs.unexpected_total() == 4);
  CHECK(syncs.reads() == 1);
  CHECK(syncs.syncs_in_reads() == 1);
}

TEST_CASE("optimizer steps, gradient clipping and the EMA update never wait for the device", "[engine][sync]") {
  yolo::nn::YoloModel model(yolo::nn::load_model_spec("yolov8n.yaml", 3));
  yolo::nn::YoloModel ema_copy(model->spec());
  yolo::engine::ModelEma ema(ema_copy.ptr(), *model);
  std::vector<torch::Tensor> params;
  for (auto& p : model->parameters())
    if (p.requires_grad()) params.push_back(p);
  for (const char* name : {"SGD", "AdamW", "Adam"}) {
    yolo::engine::OptimizerOptions o;
    o.name = name;
    auto built = yolo::engine::build_optimizer(*model, o);
    for (auto& p : params) p.mutable_grad() = torch::randn_like(p);
    HostSyncCounter syncs;
    for (int step = 0; step < 2; ++step) {  // the first step makes the optimizer state, the second uses it
      yolo::engine::clip_grad_norm(params, 10.0);
      built.optimizer->step();
      ema.update(*model);
    }
    INFO(name << ": " << syncs.describe());
    CHECK(syncs.total() == 0);
  }
}

TEST_CASE("a training epoch waits for the device only to read its running losses", "[engine][sync][train]") {
  // Counted on the training thread from the epoch's start to its end (the loader's workers run beside it):
  // batches, forward, loss, backward, optimizer, EMA, progress. The reads are the sanctioned ones, one
  // synchronisation each; there is at least the one after the last batch.
  const auto project = std::filesystem::temp_directory_path() / ("yolo_host_sync_" + std::to_string(::getpid()));
  std::filesystem::remove_all(project);
  std::optional<HostSyncCounter> syncs;
  std::map<std::string, int64_t> unexpected;
  int64_t reads = 0, syncs_in_reads = 0, batches = 0;
  yolo::Model model("yolov8n.yaml");
  model.add_callback("on_train_epoch_start", [&](yolo::TrainEvent&) { syncs.emplace(); });
  model.add_callback("on_train_batch_end", [&](yolo::TrainEvent&) { ++batches; });
  model.add_callback("on_train_epoch_end", [&](yolo::TrainEvent&) {
    unexpected = syncs->unexpected(), reads = syncs->reads(), syncs_in_reads = syncs->syncs_in_reads();
    syncs.reset();
  });
  model.train(yolo::TrainArgs()
                  .data(yolo::test::data_path("fdet/data.yaml"))
                  .epochs(1)
                  .imgsz(64)
                  .batch(4)
                  .workers(2)
                  .device("cpu")
                  .val(false)
                  .plots(false)
                  .project(project.string())
                  .name("train"));
  std::filesystem::remove_all(project);
  std::string offenders;
  for (const auto& [name, count] : unexpected) offenders += name + " x" + std::to_string(count) + " ";
  INFO("synchronising calls outside the reads: " << (offenders.empty() ? "none" : offenders));
  CHECK(batches == 4);
  CHECK(unexpected.empty());
  CHECK(reads >= 1);
  CHECK(reads <= batches);
  CHECK(syncs_in_reads == reads);
}
