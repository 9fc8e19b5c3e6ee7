import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP

/// Client commands over the `/v1` API, for scripts: tenants, keys, models, deploy.
enum ClientCommands {
    static let tenants = Command(
        name: "tenants",
        summary: "Manage tenants: `tenants create NAME`, `tenants list`, `tenants get NAME` (admin).",
        usageLine: "tenants create NAME [--display-name TEXT] | tenants list | tenants get NAME",
        flags: APIClient.flags + [FlagSpec("display-name", help: "display name for create")],
        run: { args in
            let api = try APIClient(args)
            switch (args.positional.first, args.positional.count) {
            case ("create", 2):
                var body: [String: Any] = ["name": args.positional[1]]
                if let display = args.value("display-name") { body["displayName"] = display }
                Console.out(APIClient.render(try api.call(.POST, "/v1/tenants", json: body)))
            case ("list", 1):
                Console.out(APIClient.render(try api.call(.GET, "/v1/tenants")))
            case ("get", 2):
                Console.out(APIClient.render(try api.call(.GET, "/v1/tenants/" + APIClient.segment(args.positional[1]))))
            default:
                throw UsageError("expected: tenants create NAME | tenants list | tenants get NAME")
            }
            return 0
        },
        maxPositional: 2)

    static let keys = Command(
        name: "keys",
        summary: "Manage API keys: `keys create --tenant T --role R` prints the key once; `keys list`, `keys revoke ID`.",
        usageLine: "keys create --tenant T --role owner|developer|invoker|viewer [--name N] [--deployment D]... [--expires-in SECONDS] | keys list --tenant T | keys revoke ID --tenant T",
        flags: APIClient.flags + [
            FlagSpec("tenant", help: "tenant name"),
            FlagSpec("role", help: "role of the key"),
            FlagSpec("name", help: "a label for the key"),
            FlagSpec("deployment", repeatable: true, help: "limit the key to this deployment (repeatable)"),
            FlagSpec("expires-in", help: "expiry in seconds from now"),
        ],
        run: { args in
            let api = try APIClient(args)
            let tenant = "/v1/tenants/" + APIClient.segment(try args.require("tenant")) + "/keys"
            switch (args.positional.first, args.positional.count) {
            case ("create", 1):
                var body: [String: Any] = ["role": try args.require("role")]
                if let name = args.value("name") { body["name"] = name }
                if args.has("deployment") { body["deployments"] = args.all("deployment") }
                if args.has("expires-in") {
                    body["expiresInSeconds"] = try args.int("expires-in", default: 0, range: 1...(10 * 365 * 86400))
                }
                let result = try api.call(.POST, tenant, json: body) as? [String: Any]
                guard let key = result?["key"] as? String else { throw CLIError("the server returned no key") }
                Console.out(key)
            case ("list", 1):
                Console.out(APIClient.render(try api.call(.GET, tenant)))
            case ("revoke", 2):
                try api.call(.DELETE, tenant + "/" + APIClient.segment(args.positional[1]))
                Console.out("revoked \(args.positional[1])")
            default:
                throw UsageError("expected: keys create | keys list | keys revoke ID")
            }
            return 0
        },
        maxPositional: 2)

    static let models = Command(
        name: "models",
        summary: "Upload a model version: `models push FILE --tenant T --model M --version V` (creates the model if needed).",
        usageLine:
            "models push FILE --tenant T --model M --version V [--format onnx|external] [--runtime JSON] | models list --tenant T",
        flags: APIClient.flags + [
            FlagSpec("tenant", help: "tenant name"),
            FlagSpec("model", help: "model name (a DNS label)"),
            FlagSpec("version", help: "version label"),
            FlagSpec("format", help: "onnx (default) or external"),
            FlagSpec("runtime", help: #"external versions: manifest {"command": [...], "env": {...}}"#),
        ],
        run: { args in
            let api = try APIClient(args)
            let base = "/v1/tenants/" + APIClient.segment(try args.require("tenant")) + "/models"
            switch (args.positional.first, args.positional.count) {
            case ("push", 2):
                let file = args.positional[1]
                guard FileManager.default.isReadableFile(atPath: file) else { throw CLIError("cannot read \(file)") }
                let model = try args.require("model")
                let version = try args.require("version")
                let format = args.value("format") ?? "onnx"
                guard format == "onnx" || format == "external" else { throw UsageError("--format must be onnx or external") }
                do {
                    try api.call(.GET, base + "/" + APIClient.segment(model))
                } catch let error as CLIError where error.description.hasPrefix("HTTP 404") {
                    try api.call(.POST, base, json: ["name": model, "format": format])
                }
                var manifest: [String: Any]?
                if let text = args.value("runtime") {
                    manifest = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                    guard let manifest else { throw UsageError("--runtime must be a JSON object") }
                    // Checked before the upload, so a bad manifest leaves no version behind.
                    if let data = try? JSONSerialization.data(withJSONObject: manifest),
                        let problem = try? JSONDecoder().decode(RuntimeManifest.self, from: data).problem()
                    {
                        throw CLIError("--runtime: \(problem.field): \(problem.message)")
                    }
                }
                let digest = try sha256(ofFile: file)
                let versionPath = base + "/" + APIClient.segment(model) + "/versions/" + APIClient.segment(version)
                var shown = try api.upload(.PUT, versionPath + "/artifact?sha256=" + digest, file: file)
                if let manifest { shown = try api.call(.PUT, versionPath + "/runtime", json: manifest) }
                Console.out(APIClient.render(shown))
            case ("list", 1):
                Console.out(APIClient.render(try api.call(.GET, base)))
            default:
                throw UsageError("expected: models push FILE | models list")
            }
            return 0
        },
        maxPositional: 2)

    static let deploy = Command(
        name: "deploy",
        summary: "Create or update a deployment of one model version: `deploy NAME --tenant T --model M --version V`.",
        usageLine:
            "deploy NAME --tenant T --model M --version V [--instance-class C] [--replicas N] [--max-batch B] [--max-delay-us U]",
        flags: APIClient.flags + [
            FlagSpec("tenant", help: "tenant name"),
            FlagSpec("model", help: "model name"),
            FlagSpec("version", help: "model version"),
            FlagSpec("instance-class", help: "instance class (default cpu-small)"),
            FlagSpec("replicas", help: "replicas to run (default 1)"),
            FlagSpec("max-batch", help: "dynamic batching: largest batch (default 8)"),
            FlagSpec("max-delay-us", help: "dynamic batching: longest wait in microseconds (default 500)"),
        ],
        run: { args in
            let api = try APIClient(args)
            guard args.positional.count == 1 else { throw UsageError("expected: deploy NAME --tenant T --model M --version V") }
            let replicas = try args.int("replicas", default: 1, range: 0...1000)
            let body: [String: Any] = [
                "versions": [["model": try args.require("model"), "version": try args.require("version"), "weight": 1]],
                "instanceClass": args.value("instance-class") ?? "cpu-small",
                "minReplicas": replicas, "maxReplicas": max(1, replicas),
                "batching": [
                    "maxBatchSize": try args.int("max-batch", default: 8, range: 1...4096),
                    "maxQueueDelayMicros": try args.int("max-delay-us", default: 500, range: 0...1_000_000),
                ],
            ]
            let path =
                "/v1/tenants/" + APIClient.segment(try args.require("tenant")) + "/deployments/"
                + APIClient.segment(args.positional[0])
            Console.out(APIClient.render(try api.call(.PUT, path, json: body)))
            return 0
        })

    static func sha256(ofFile path: String) throws -> String {
        let hasher = SHA256Hasher()
        try FileChunks(path: path).forEach { chunk in hasher.update(chunk) }
        return Hex.encode(hasher.finalize())
    }
}
