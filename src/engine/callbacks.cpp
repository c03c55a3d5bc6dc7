#include "yolo/engine/callbacks.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "utils/suggest.h"
#include "yolo/utils/error.h"
#include "yolo/version.h"

YOLO_BEGIN_NAMESPACE

const std::vector<std::string>& callback_events() {
  static const std::vector<std::string> events{
      "on_pretrain_routine_start", "on_pretrain_routine_end", "on_train_start",  "on_train_epoch_start",
      "on_train_batch_start",      "on_train_batch_end",      "on_train_epoch_end", "on_fit_epoch_end",
      "on_model_save",             "on_train_end",            "on_val_start",    "on_val_end"};
  return events;
}

NamedValues EpochRecord::columns() const {
  NamedValues all;
  for (const auto* part : {&train_loss, &metrics, &val_loss, &lr}) all.insert(all.end(), part->begin(), part->end());
  return all;
}

void Callbacks::add(const std::string& event, TrainCallback callback) {
  const auto& events = callback_events();
  if (std::find(events.begin(), events.end(), event) == events.end()) {
    YOLO_FAIL("'{}' is not a callback event{}. Events: {}", event, did_you_mean(event, events),
              fmt::join(events, ", "));
  }
  callbacks_[event].push_back(std::move(callback));
}

void Callbacks::run(const std::string& event, TrainEvent& state) const {
  auto it = callbacks_.find(event);
  if (it == callbacks_.end()) return;
  state.name = event;
  for (const auto& callback : it->second) callback(state);
}

YOLO_END_NAMESPACE
