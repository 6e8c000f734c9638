// Every metric of med::metrics (MONAI 1.4.0's monai.metrics), for users who want them all.
#pragma once

#include "med/metrics/confusion_matrix.h"
#include "med/metrics/distance_transform.h"
#include "med/metrics/meandice.h"
#include "med/metrics/metric.h"
#include "med/metrics/regression.h"
#include "med/metrics/rocauc.h"
#include "med/metrics/surface_distance.h"
