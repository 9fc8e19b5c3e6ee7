/// Marker for the portable build of the kernels.
public enum PlinthKernelsGenericModule {
    public static let name = "PlinthKernelsGeneric"
}
