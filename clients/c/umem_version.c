/* umem_version.c - the library's version at run time (umem_version() in umem.h). */
#include "umem.h"

uint32_t umem_version(void)
{
    return UMEM_VERSION_NUMBER;
}
