// Reading Ultralytics' checkpoint against figures Python printed, and our writer against our
// reader and Python's torch.load(weights_only=True).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "catch.h"
#include "io/checkpoint.h"
#include "yolo/utils/error.h"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using yolo::io::PickleValue;

namespace {

const std::string kReference = yolo::test::data_path("yolov8n_fdet.pt");

bool python_torch_available() { return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0; }

const torch::Tensor& tensor_named(const yolo::io::StateDict& state, const std::string& name) {
  for (const auto& [n, t] : state)
    if (n == name) return t;
  FAIL("no tensor " << name);
  throw std::logic_error("unreachable");
}

fs::path temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("yolo_io_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string value_of(const std::vector<std::pair<std::string, std::string>>& pairs, const std::string& key) {
  for (const auto& [k, v] : pairs)
    if (k == key) return v;
  return "<missing>";
}

}  // namespace

// Reference figures from Ultralytics 8.3.166 and torch 1.13 (Debian):
//   PYTHONPATH=/work/ref/ultralytics YOLO_OFFLINE=1 /usr/bin/python3 -c "import torch;
//   ck=torch.load('tests/data/yolov8n_fdet.pt', weights_only=False); sd=ck['model'].state_dict();
//   print(len(sd), list(sd)[:5], list(sd)[-3:]); [print(k, sd[k].double().sum().item()) for k in (...)]"
TEST_CASE("the Ultralytics reference checkpoint reads as Python sees it", "[io]") {
  const auto checkpoint = yolo::io::load_checkpoint(kReference);
  const auto state = checkpoint.model_state();
  REQUIRE(state.size() == 355);
  CHECK(state[0].first == "model.0.conv.weight");
  CHECK(state[1].first == "model.0.bn.weight");
  CHECK(state[2].first == "model.0.bn.bias");
  CHECK(state[3].first == "model.0.bn.running_mean");
  CHECK(state[4].first == "model.0.bn.running_var");
  CHECK(state[352].first == "model.22.cv3.2.2.weight");
  CHECK(state[353].first == "model.22.cv3.2.2.bias");
  CHECK(state[354].first == "model.22.dfl.conv.weight");

  const auto& conv0 = tensor_named(state, "model.0.conv.weight");
  CHECK(conv0.scalar_type() == torch::kFloat16);
  CHECK(conv0.sizes() == torch::IntArrayRef({16, 3, 3, 3}));
  CHECK(conv0.to(torch::kDouble).sum().item<double>() == Approx(-1.4690461158752441).epsilon(1e-12));
  CHECK(tensor_named(state, "model.22.dfl.conv.weight").to(torch::kDouble).sum().item<double>() == 120.0);
  CHECK(tensor_named(state, "model.22.cv3.2.2.bias").to(torch::kDouble).sum().item<double>() == -67.8515625);
  CHECK(tensor_named(state, "model.9.cv2.bn.running_var").to(torch::kDouble).sum().item<double>() ==
        313.867919921875);
  const auto& batches = tensor_named(state, "model.0.bn.num_batches_tracked");
  CHECK(batches.scalar_type() == torch::kInt64);
  CHECK(batches.dim() == 0);
  CHECK(batches.item<int64_t>() == 0);

  // Names and shapes against the list another Python run wrote (tests/data/yolov8n_nc10_state_names.txt).
  std::ifstream names(yolo::test::data_path("yolov8n_nc10_state_names.txt"));
  std::string line;
  size_t i = 0, mismatches = 0;
  while (std::getline(names, line)) {  // "name 16x3x3x3", "name " for a 0-dim tensor
    REQUIRE(i < state.size());
    const auto space = line.find(' ');
    std::string ours;
    for (const auto s : state[i].second.sizes()) ours += (ours.empty() ? "" : "x") + std::to_string(s);
    if (state[i].first != line.substr(0, space) || ours != line.substr(space + 1)) ++mismatches;
    ++i;
  }
  CHECK(i == state.size());
  CHECK(mismatches == 0);

  CHECK_FALSE(checkpoint.has_ema());
  CHECK_THROWS_WITH(checkpoint.ema_state(), ContainsSubstring("no EMA weights"));
  CHECK(checkpoint.epoch() == -1);
  CHECK_FALSE(checkpoint.best_fitness().has_value());
  CHECK(checkpoint.names() == std::vector<std::string>{"tshirt", "trouser", "pullover", "dress", "coat", "sandal",
                                                       "shirt", "sneaker", "bag", "boot"});
  CHECK(checkpoint.find("version")->as_string() == "8.3.166");
}

TEST_CASE("the reference checkpoint's model YAML and train args", "[io]") {
  const auto checkpoint = yolo::io::load_checkpoint(kReference);
  const std::string text = checkpoint.model_yaml_text();
  CHECK_THAT(text, ContainsSubstring("nc: 10\n"));
  CHECK_THAT(text, ContainsSubstring("backbone: [[-1, 1, Conv, [64, 3, 2]], [-1, 1, Conv, [128, 3, 2]], "
                                     "[-1, 3, C2f, [128, true]]"));
  // As Python printed ck['model'].yaml: 10 backbone rows, 13 head rows, the scales table, the scale.
  const YAML::Node yaml = YAML::Load(text);
  CHECK(yaml["backbone"].size() == 10);
  CHECK(yaml["head"].size() == 13);
  CHECK(yaml["head"][0][2].as<std::string>() == "nn.Upsample");
  CHECK(yaml["head"][0][3][0].as<std::string>() == "None");
  CHECK(yaml["head"][12][0][2].as<int>() == 21);
  CHECK(yaml["head"][12][3][0].as<std::string>() == "nc");
  CHECK(yaml["scales"]["n"][0].as<double>() == 0.33);
  CHECK(yaml["scales"]["x"][1].as<double>() == 1.25);
  CHECK(yaml["scale"].as<std::string>() == "n");
  CHECK(yaml["yaml_file"].as<std::string>() == "yolov8n.yaml");
  CHECK(yaml["channels"].as<int>() == 3);

  const auto args = checkpoint.train_args();
  CHECK(args.size() == 104);  // len(ck['train_args'])
  CHECK(args.front().first == "task");
  CHECK(value_of(args, "task") == "detect");
  CHECK(value_of(args, "epochs") == "30");
  CHECK(value_of(args, "lr0") == "0.01");
  CHECK(value_of(args, "warmup_epochs") == "3.0");
  CHECK(value_of(args, "amp") == "true");
  CHECK(value_of(args, "freeze") == "null");
  CHECK(value_of(args, "data") == "/tmp/fdet640/data.yaml");
  CHECK(value_of(args, "device") == "'0'");
}

TEST_CASE("checkpoints round-trip through our writer and reader", "[io]") {
  const auto dir = temp_dir("roundtrip");
  const auto path = (dir / "ours.pt").string();
  torch::manual_seed(0);
  const auto weights = torch::randn({4, 3, 3, 3});
  const auto half = torch::randn({7}).to(torch::kHalf);
  const auto bf16 = torch::randn({2, 2}).to(torch::kBFloat16);
  const auto transposed = torch::arange(6, torch::kFloat64).reshape({2, 3}).t();  // not contiguous
  const auto flags = torch::tensor({true, false, true});
  const auto bytes = torch::tensor({1, 255}, torch::kUInt8);
  const auto small = torch::tensor({-3, 4}, torch::kInt8);
  const auto ints = torch::tensor({-70000, 70000}, torch::kInt32);
  const auto scalar = torch::tensor(int64_t{42});
  const auto empty = torch::zeros({0, 5});

  auto nested = PickleValue::list({1, 2.5, "three", PickleValue(), true});
  auto root = PickleValue::dict();
  root.set_item("epoch", int64_t{7});
  root.set_item("best_fitness", 0.625);
  root.set_item("big", int64_t{1} << 40);
  root.set_item("negative", int64_t{-123456789012});
  root.set_item("none", PickleValue());
  root.set_item("text", "ünïcödé");
  root.set_item("raw", PickleValue::bytes(std::string("\0\1\2", 3)));
  root.set_item("tuple", PickleValue::tuple({1, "a"}));
  root.set_item("list", nested);
  root.set_item("model", yolo::io::state_dict_value({{"w", weights}, {"h", half}, {"b", bf16}, {"t", transposed},
                                                      {"flags", flags}, {"u8", bytes}, {"i8", small}, {"i32", ints},
                                                      {"n", scalar}, {"empty", empty}}));
  root.set_item(2, "int key");
  yolo::io::save_checkpoint(path, root);
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename() == "ours.pt");  // no .tmp left

  const auto back = yolo::io::load_checkpoint(path);
  CHECK(back.epoch() == 7);
  CHECK(back.best_fitness() == 0.625);
  CHECK(back.find("big")->as_int() == (int64_t{1} << 40));
  CHECK(back.find("negative")->as_int() == int64_t{-123456789012});
  CHECK(back.find("none")->is_none());
  CHECK(back.find("text")->as_string() == "ünïcödé");
  CHECK(back.find("raw")->as_bytes() == std::string("\0\1\2", 3));
  CHECK(back.find("tuple")->is(PickleValue::Kind::Tuple));
  CHECK(back.find("tuple")->items()[1].as_string() == "a");
  const auto& list = back.find("list")->items();
  REQUIRE(list.size() == 5);
  CHECK(list[0].as_int() == 1);
  CHECK(list[1].as_float() == 2.5);
  CHECK(list[2].as_string() == "three");
  CHECK(list[3].is_none());
  CHECK(list[4].as_bool());
  CHECK(back.root().dict_items().back().first.as_int() == 2);

  const auto state = back.model_state();
  REQUIRE(state.size() == 10);
  const std::vector<torch::Tensor> originals{weights, half, bf16, transposed, flags, bytes, small, ints, scalar, empty};
  for (size_t i = 0; i < state.size(); ++i) {
    INFO(state[i].first);
    CHECK(state[i].second.scalar_type() == originals[i].scalar_type());
    CHECK(state[i].second.sizes() == originals[i].sizes());
    CHECK(torch::equal(state[i].second, originals[i]));
  }
  CHECK(state[0].first == "w");

  // Overwriting keeps the file whole and replaces it.
  root.set_item("epoch", int64_t{8});
  yolo::io::save_checkpoint(path, root);
  CHECK(yolo::io::load_checkpoint(path).epoch() == 8);

  // Only plain values can be written.
  auto bad = PickleValue::dict();
  bad.set_item("x", PickleValue::global("os", "system"));
  CHECK_THROWS_WITH(yolo::io::save_checkpoint(path, bad), ContainsSubstring("only plain values and tensors"));
  fs::remove_all(dir);
}

TEST_CASE("an Ultralytics checkpoint re-saved by our writer keeps every tensor", "[io]") {
  const auto original = yolo::io::load_checkpoint(kReference);
  auto root = PickleValue::dict();
  root.set_item("model", yolo::io::state_dict_value(original.model_state()));
  root.set_item("yaml", original.model_yaml_text());
  const auto copy = yolo::io::load_checkpoint_from_bytes(yolo::io::checkpoint_to_bytes(root), "copy");
  const auto a = original.model_state(), b = copy.model_state();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(torch::equal(a[i].second, b[i].second));
  }
  CHECK(copy.model_yaml_text() == original.model_yaml_text());
}

TEST_CASE("Python's torch.load(weights_only=True) opens what we write", "[io]") {
  if (!python_torch_available()) YOLO_SKIP("no Python torch at /usr/bin/python3: skipped");
  const auto dir = temp_dir("python");
  const auto path = (dir / "for_python.pt").string();
  const auto out = dir / "python.txt";
  const auto python = [&](const std::string& script) {
    const std::string command = "/usr/bin/python3 -c \"" + script + "\" " + path + " > " + out.string() + " 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream in(out);
    std::stringstream printed;
    printed << in.rdbuf();
    return std::make_pair(status, printed.str());
  };
  // torch 1.13's weights-only unpickler has no BINFLOAT opcode (torch 2 has): floats only from torch 2 on.
  const bool floats = python("import torch; print(int(torch.__version__.split('.')[0]) >= 2)").second == "True\n";
  auto root = PickleValue::dict();
  root.set_item("epoch", int64_t{3});
  if (floats) root.set_item("best_fitness", 0.5);
  root.set_item("big", int64_t{1} << 40);
  root.set_item("names", PickleValue::list({"cat", "dog"}));
  root.set_item("args", PickleValue::tuple({PickleValue(), true, "x"}));
  root.set_item("model", yolo::io::state_dict_value({{"w", torch::arange(12, torch::kFloat32).reshape({3, 4}).t()},
                                                      {"h", torch::full({2}, 0.5).to(torch::kHalf)},
                                                      {"n", torch::tensor(int64_t{5})}}));
  yolo::io::save_checkpoint(path, root);

  const auto [status, printed] =
      python("import torch, sys; d = torch.load(sys.argv[1], weights_only=True); m = d['model'];"
             " print(d['epoch'], d.get('best_fitness', 0.5), d['big'], d['names'], d['args'], list(m),"
             " m['w'].shape, m['w'].dtype, m['w'].sum().item(), m['w'][0, 1].item(),"
             " m['h'].dtype, m['h'].tolist(), m['n'].item(), m['n'].dtype)");
  INFO(printed);
  REQUIRE(status == 0);
  CHECK(printed ==
        "3 0.5 1099511627776 ['cat', 'dog'] (None, True, 'x') ['w', 'h', 'n'] torch.Size([4, 3]) torch.float32 "
        "66.0 4.0 torch.float16 [0.5, 0.5] 5 torch.int64\n");
  fs::remove_all(dir);
}

TEST_CASE("a module tree pickled by Python's torch.save gives Module.state_dict()", "[io]") {
  if (!python_torch_available()) YOLO_SKIP("no Python torch at /usr/bin/python3: skipped");
  const auto dir = temp_dir("module");
  const auto path = (dir / "module.pt").string();
  const auto expected = (dir / "expected.txt").string();
  // A non-persistent buffer, a parameter set to None, nested children, namespaces as train_args.
  const std::string script =
      "import sys, argparse, torch\n"
      "torch.manual_seed(0)\n"
      "class Block(torch.nn.Module):\n"
      "    def __init__(self):\n"
      "        super().__init__()\n"
      "        self.conv = torch.nn.Conv2d(3, 4, 3, bias=False)\n"
      "        self.bn = torch.nn.BatchNorm2d(4)\n"
      "        self.register_buffer('scratch', torch.ones(2), persistent=False)\n"
      "        self.register_parameter('unused', None)\n"
      "m = torch.nn.Sequential(Block(), torch.nn.Sequential(torch.nn.Linear(2, 3))).half()\n"
      "torch.save({'model': m, 'train_args': argparse.Namespace(lr0=0.01, name='x'), 'epoch': 5}, sys.argv[1])\n"
      "torch.save({'a': torch.ones(2)}, sys.argv[1] + '.legacy', _use_new_zipfile_serialization=False)\n"
      "with open(sys.argv[2], 'w') as f:\n"
      "    for k, v in m.state_dict().items(): print(k, v.dtype, repr(v.double().sum().item()), file=f)\n";
  std::ofstream(dir / "make.py") << script;
  REQUIRE(std::system(("/usr/bin/python3 " + (dir / "make.py").string() + " " + path + " " + expected).c_str()) == 0);

  const auto checkpoint = yolo::io::load_checkpoint(path);
  const auto state = checkpoint.model_state();
  std::ifstream in(expected);
  std::string name, dtype, sum;
  size_t i = 0;
  while (in >> name >> dtype >> sum) {
    REQUIRE(i < state.size());
    CHECK(state[i].first == name);
    CHECK(dtype == (state[i].second.scalar_type() == torch::kHalf ? "torch.float16" : "torch.int64"));
    CHECK(state[i].second.to(torch::kDouble).sum().item<double>() == std::stod(sum));
    ++i;
  }
  CHECK(i == 8);  // 0.conv.weight, 0.bn.{weight,bias,running_mean,running_var,num_batches_tracked}, 1.0.{weight,bias}
  CHECK(i == state.size());
  CHECK(checkpoint.epoch() == 5);
  const auto args = checkpoint.train_args();
  CHECK(args == std::vector<std::pair<std::string, std::string>>{{"lr0", "0.01"}, {"name", "x"}});
  // The format before torch 1.6 reads too (more in legacy_checkpoint_test.cpp).
  const auto legacy = yolo::io::load_checkpoint(path + ".legacy").model_state();
  REQUIRE(legacy.size() == 1);
  CHECK(legacy[0].first == "a");
  CHECK(torch::equal(legacy[0].second, torch::ones({2})));
  fs::remove_all(dir);
}
