#pragma once
// Options as values with chained setters, as LibTorch's TORCH_ARG (torch/arg.h).

/// Declares a field with a chained setter and a getter of the same name:
///   struct Options { YOLO_ARG(int, epochs) = 100; };
///   Options().epochs(3).epochs() == 3
/// Leaves the class in `private:`, so declare public members before the fields.
#define YOLO_ARG(T, name)                                  \
 public:                                                   \
  auto name(const T& new_##name)->decltype(*this) {        \
    this->name##_ = new_##name;                            \
    return *this;                                          \
  }                                                        \
  const T& name() const noexcept { return this->name##_; } \
                                                           \
 private:                                                  \
  T name##_
