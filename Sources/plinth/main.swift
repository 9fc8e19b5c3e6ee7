import Foundation
import PlinthCore
import PlinthWorker

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
// The sandbox launcher must stay single-threaded until it execs the replica: dispatch it
// before anything else (no command table, no Foundation work) runs.
if arguments.first == "sandbox-exec" {
    exit(SandboxLauncher.main(arguments: Array(arguments.dropFirst())))
}
exit(CommandLineInterface.run(arguments))
