// Test helper: one rank of a distributed training run (or a plain one), started by tests/distributed.
//   ddp_train OUT KILL_RANK KILL_BATCH key=value...
// Trains yolov8n from scratch with the given arguments. Every rank appends the images of each of its
// batches to OUT.rank<R>.files ("epoch file" lines) and, after training, writes its model's parameters
// (fp32, not the stripped fp16 checkpoint) as one flat tensor to OUT.rank<R>.pt, and those it started
// from to OUT.rank<R>.initial.pt. The rank KILL_RANK
// SIGKILLs itself after its batch KILL_BATCH of the first epoch (-1: nobody), as a crash would.
// With device=cpu,cpu its yolo::RankLauncher starts rank 1 as a copy of this program with the same arguments,
// which ends after training (tests/distributed/ddp_test.cpp).
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <yolo/process.h>
#include <yolo/yolo.h>

#include "data/dataset_yaml.h"
#include "engine/trainer.h"
#include "yolo/nn/model.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s out kill_rank kill_batch key=value...\n", argv[0]);
    return 1;
  }
  const std::string out = argv[1];
  const int kill_rank = std::stoi(argv[2]);
  const long kill_batch = std::stol(argv[3]);
  std::vector<std::string> tokens(argv + 4, argv + argc);
  try {
    auto args = yolo::TrainArgs::from_strings(tokens);
    yolo::RankLauncher ranks(args);
    const auto data = yolo::data::load_data_spec(args.data(), args.datasets_dir());
    torch::manual_seed(args.seed());
    yolo::nn::YoloModel model(yolo::nn::load_model_spec("yolov8n.yaml", static_cast<int64_t>(data.names.size())));

    auto flat_parameters = [&model] {
      std::vector<torch::Tensor> flat;
      for (const auto& p : model->parameters()) flat.push_back(p.detach().reshape({-1}).to(torch::kCPU));
      return torch::cat(flat);
    };
    const auto initial = flat_parameters();

    yolo::Callbacks callbacks;
    int rank = 0;
    callbacks.add("on_train_batch_end", [&](yolo::TrainEvent& e) {
      rank = e.rank;
      std::ofstream files(out + ".rank" + std::to_string(e.rank) + ".files", std::ios::app);
      for (const auto& f : e.batch_files) files << e.epoch << " " << f << "\n";
      files.close();
      if (e.rank == kill_rank && e.epoch == 0 && e.batch == kill_batch) std::raise(SIGKILL);
    });
    auto results = yolo::engine::train(model, args, callbacks);

    torch::save(flat_parameters(), out + ".rank" + std::to_string(rank) + ".pt");
    torch::save(initial, out + ".rank" + std::to_string(rank) + ".initial.pt");
    std::printf("rank %d done: %s mAP50-95 %.6f\n", rank, results.save_dir.c_str(), results.metrics.map50_95);
    if (ranks.is_worker()) return 0;
    ranks.join();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
