package pxprune.kernels;

/** Where a tensor's buffer lives. */
public enum Device { CPU, CUDA }
