// Writes the fuzzing seed corpus into a folder: small checkpoints from our writer (every value
// kind and dtype, an nn.Module-like tree) and their bare data.pkl pickles.
#include <filesystem>
#include <fstream>

#include "io/checkpoint.h"
#include "io/zip.h"

namespace {

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void write_checkpoint(const std::filesystem::path& folder, const std::string& name, const yolo::io::PickleValue& root) {
  const std::string bytes = yolo::io::checkpoint_to_bytes(root);
  write(folder / (name + ".pt"), bytes);
  const yolo::io::ZipReader zip(std::make_shared<const std::string>(bytes), name);
  write(folder / (name + ".pkl"), std::string(zip.read(*zip.find("archive/data.pkl"))));
}

}  // namespace

int main(int argc, char** argv) {
  using yolo::io::PickleValue;
  if (argc != 2) return 2;
  const std::filesystem::path folder = argv[1];
  std::filesystem::create_directories(folder);

  auto plain = PickleValue::dict();
  plain.set_item("epoch", int64_t{3});
  plain.set_item("best_fitness", 0.25);
  plain.set_item("big", int64_t{1} << 40);
  plain.set_item("none", PickleValue());
  plain.set_item("flags", PickleValue::list({true, false}));
  plain.set_item("tuple", PickleValue::tuple({1, "a", PickleValue::tuple({2, 3})}));
  plain.set_item("raw", PickleValue::bytes("\x01\x02"));
  auto args = PickleValue::dict();
  args.set_item("lr0", 0.01);
  args.set_item("data", "coco8.yaml");
  plain.set_item("train_args", args);
  write_checkpoint(folder, "plain", plain);

  auto model = PickleValue::dict();
  model.set_item("model", yolo::io::state_dict_value({
                              {"model.0.conv.weight", torch::randn({2, 1, 3, 3}).to(torch::kHalf)},
                              {"model.0.bn.num_batches_tracked", torch::tensor(int64_t{0})},
                              {"bf16", torch::ones({2}).to(torch::kBFloat16)},
                              {"f64", torch::arange(4, torch::kFloat64).reshape({2, 2}).t()},
                              {"i32", torch::tensor({1, -1}, torch::kInt32)},
                              {"i8", torch::tensor({1, -1}, torch::kInt8)},
                              {"u8", torch::tensor({1, 255}, torch::kUInt8)},
                              {"b", torch::tensor({true})},
                              {"empty", torch::zeros({0, 3})},
                          }));
  model.set_item("yaml", "nc: 2\nbackbone: []\n");
  model.set_item("names", PickleValue::list({"a", "b"}));
  write_checkpoint(folder, "state_dict", model);
  return 0;
}
