/// Marker for the AVX2+FMA build of the kernels.
public enum PlinthKernelsModule {
    public static let name = "PlinthKernels"
}
