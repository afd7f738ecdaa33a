// weft::Config and weft::SpawnOptions (defined with the scheduler).
#pragma once

#include "scheduler/config.h"
#include "scheduler/spawn_options.h"
