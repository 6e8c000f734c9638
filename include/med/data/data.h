// The data layer in one include: datasets, caches, loaders, samplers, collation, datalists.
#pragma once

#include "med/data/cache_dataset.h"
#include "med/data/collate.h"
#include "med/data/dataloader.h"
#include "med/data/dataset.h"
#include "med/data/decathlon.h"
#include "med/data/sampler.h"
#include "med/data/utils.h"
