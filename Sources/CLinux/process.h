// Process-isolation declarations (namespaces, prctl, rlimits) used by the worker's sandbox.
#include <sys/prctl.h>
#include <sys/resource.h>
