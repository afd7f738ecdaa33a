// Everything public in weft.
#pragma once

#include "runtime/config.h"
#include "runtime/join_handle.h"
#include "runtime/runtime.h"
#include "runtime/spawn.h"
#include "runtime/task.h"
#include "runtime/this_task.h"
