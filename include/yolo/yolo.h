#pragma once
// Umbrella header: everything a typical user of yolocpp needs.
#include "yolo/config/args.h"
#include "yolo/engine/callbacks.h"
#include "yolo/engine/results.h"
#include "yolo/model.h"
#include "yolo/process.h"
#include "yolo/utils/checks.h"
#include "yolo/utils/error.h"
#include "yolo/utils/log.h"
#include "yolo/version.h"
