// weft::Task<T>, the coroutine task type (see runtime/core/coroutine.h).
#pragma once

#include "runtime/core/coroutine.h"
#include "runtime/core/task_header.h"

namespace weft {

template <class T = void>
using Task = core::Task<T>;

using TaskCancelled = core::TaskCancelled;

}  // namespace weft
