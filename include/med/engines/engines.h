// Everything of med_engines in one include: the engines and every handler.
#pragma once

#include "med/engines/engine.h"
#include "med/engines/evaluator.h"
#include "med/engines/trainer.h"
#include "med/engines/utils.h"
#include "med/engines/workflow.h"
#include "med/handlers/checkpoint.h"
#include "med/handlers/early_stop.h"
#include "med/handlers/lr_schedule.h"
#include "med/handlers/metrics.h"
#include "med/handlers/metrics_saver.h"
#include "med/handlers/stats.h"
#include "med/handlers/validation.h"
