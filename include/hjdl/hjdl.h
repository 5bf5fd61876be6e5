/* hjdl.h — the whole public C interface of libhjdl in one include: <hjdl/hjdl.h>.
 *
 * Every header under include/hjdl/ except dist.h (the distributed runtime
 * of the command-line tool, which lives in the CLI, not in libhjdl).
 * Link with `pkg-config --cflags --libs hjdl` or, in CMake,
 * find_package(hjdl) and target_link_libraries(app PRIVATE hjdl::hjdl).
 */
#ifndef HJDL_HJDL_H
#define HJDL_HJDL_H

#include "hjdl/atoms.h"
#include "hjdl/attention.h"
#include "hjdl/capi.h"
#include "hjdl/check.h"
#include "hjdl/data.h"
#include "hjdl/dataset.h"
#include "hjdl/entropic.h"
#include "hjdl/entropy.h"
#include "hjdl/experiment.h"
#include "hjdl/export.h"
#include "hjdl/hopf.h"
#include "hjdl/influence.h"
#include "hjdl/landscape.h"
#include "hjdl/limits.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/optim.h"
#include "hjdl/partial.h"
#include "hjdl/pde.h"
#include "hjdl/perf.h"
#include "hjdl/plot.h"
#include "hjdl/pmp.h"
#include "hjdl/report.h"
#include "hjdl/rng.h"
#include "hjdl/robust.h"
#include "hjdl/runtime.h"
#include "hjdl/stats.h"
#include "hjdl/status.h"
#include "hjdl/stream.h"
#include "hjdl/vec.h"
#include "hjdl/verify.h"

#endif /* HJDL_HJDL_H */
