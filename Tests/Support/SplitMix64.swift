/// Tests draw from the same deterministic stream as the sources.
@_exported import struct QCore.SplitMix64
