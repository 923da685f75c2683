// Placeholder: the HDF5 wrapper session fills this in.
#include <hdf5.h>
