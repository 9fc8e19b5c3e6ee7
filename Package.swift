// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "plinth",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "plinth", targets: ["plinth"])
    ],
    targets: [
        // C libraries and the Linux headers Glibc's module lacks.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto"),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),

        .target(name: "PlinthCore", swiftSettings: strict),
        .target(name: "PlinthCrypto", dependencies: ["COpenSSL", "PlinthCore"], swiftSettings: strict),
        .target(name: "PlinthHTTP", dependencies: ["CLinux", "PlinthCore"], swiftSettings: strict),
        .target(name: "PlinthStore", dependencies: ["CSQLite", "PlinthCore"], swiftSettings: strict),

        // Kernels built for AVX2+FMA; the generic twin is the fallback chosen at run time.
        .target(
            name: "PlinthKernels",
            swiftSettings: strict + [.unsafeFlags(["-Ounchecked", "-Xcc", "-mavx2", "-Xcc", "-mfma", "-target-cpu", "haswell"])]
        ),
        .target(name: "PlinthKernelsGeneric", swiftSettings: strict + [.unsafeFlags(["-Ounchecked"])]),
        .target(
            name: "PlinthEngine",
            dependencies: ["PlinthKernels", "PlinthKernelsGeneric", "PlinthCore"],
            swiftSettings: strict
        ),
        .target(name: "PlinthRuntime", dependencies: ["PlinthEngine", "PlinthHTTP", "PlinthCore"], swiftSettings: strict),
        .target(
            name: "PlinthControl",
            dependencies: ["PlinthStore", "PlinthCrypto", "PlinthHTTP", "PlinthCore"],
            swiftSettings: strict
        ),
        .target(name: "PlinthWorker", dependencies: ["PlinthHTTP", "PlinthCrypto", "CLinux", "PlinthCore"], swiftSettings: strict),
        .target(
            name: "PlinthGateway",
            dependencies: ["PlinthHTTP", "PlinthCrypto", "CLinux", "PlinthCore"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "plinth",
            dependencies: [
                "PlinthCore", "PlinthCrypto", "PlinthHTTP", "PlinthStore", "PlinthEngine",
                "PlinthRuntime", "PlinthControl", "PlinthWorker", "PlinthGateway",
            ],
            swiftSettings: strict
        ),

        .target(name: "PlinthTestSupport", dependencies: ["PlinthHTTP", "PlinthCore"], path: "Tests/PlinthTestSupport"),
        .testTarget(name: "PlinthCoreTests", dependencies: ["PlinthCore"]),
        .testTarget(name: "PlinthCryptoTests", dependencies: ["PlinthCrypto"]),
        .testTarget(name: "PlinthHTTPTests", dependencies: ["PlinthHTTP", "PlinthTestSupport"]),
        .testTarget(name: "PlinthStoreTests", dependencies: ["PlinthStore"]),
        .testTarget(name: "PlinthEngineTests", dependencies: ["PlinthEngine"], resources: [.copy("Vectors")]),
        .testTarget(name: "PlinthRuntimeTests", dependencies: ["PlinthRuntime", "PlinthTestSupport"]),
        .testTarget(name: "PlinthControlTests", dependencies: ["PlinthControl", "PlinthTestSupport"]),
        .testTarget(name: "PlinthWorkerTests", dependencies: ["PlinthWorker", "PlinthTestSupport"]),
        .testTarget(name: "PlinthGatewayTests", dependencies: ["PlinthGateway", "PlinthTestSupport"]),
        .testTarget(
            name: "PlinthEndToEndTests",
            dependencies: ["PlinthTestSupport", "PlinthCore", "PlinthHTTP", "PlinthStore", "PlinthGateway"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
