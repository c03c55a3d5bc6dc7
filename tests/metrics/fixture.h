#pragma once
// The metrics fixtures' text format (tests/data/metrics/generate.py): a line "name dim0 dim1 ..." then one
// line of values.
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "catch.h"

namespace yolo::test {

inline std::map<std::string, torch::Tensor> read_fixture(const std::string& name) {
  std::ifstream in(data_path("metrics/" + name));
  REQUIRE(in.good());
  std::map<std::string, torch::Tensor> arrays;
  std::string header, values;
  while (std::getline(in, header) && std::getline(in, values)) {
    std::istringstream hs(header), vs(values);
    std::string key;
    hs >> key;
    std::vector<int64_t> shape;
    for (int64_t d; hs >> d;) shape.push_back(d);
    std::vector<double> data;
    for (double v; vs >> v;) data.push_back(v);
    arrays[key] = torch::tensor(data, torch::kDouble).view(shape);
  }
  return arrays;
}

}  // namespace yolo::test
