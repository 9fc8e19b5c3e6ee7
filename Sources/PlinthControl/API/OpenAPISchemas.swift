/// Component schemas of the OpenAPI document, kept next to the Codable types they describe.
enum OpenAPISchemas {
    private static func object(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
        var schema: [String: Any] = ["type": "object", "properties": properties]
        if !required.isEmpty { schema["required"] = required }
        return schema
    }
    private static var string: [String: Any] { ["type": "string"] }
    private static var integer: [String: Any] { ["type": "integer"] }
    private static var number: [String: Any] { ["type": "number"] }
    private static var boolean: [String: Any] { ["type": "boolean"] }
    private static var time: [String: Any] { ["type": "string", "format": "date-time"] }
    private static var labels: [String: Any] { ["type": "object", "additionalProperties": ["type": "string"]] }
    private static var role: [String: Any] {
        ["type": "string", "enum": ["admin", "owner", "developer", "invoker", "viewer"]]
    }
    private static func array(_ items: [String: Any]) -> [String: Any] { ["type": "array", "items": items] }
    private static func ref(_ name: String) -> [String: Any] { OpenAPIDocument.ref(name) }
    private static func page(_ item: String) -> [String: Any] {
        object(["items": array(ref(item)), "nextCursor": string], required: ["items"])
    }

    static var all: [String: Any] {
        let quotas = object([
            "maxModels": integer, "maxArtifactBytes": integer, "maxReplicas": integer, "maxGPUReplicas": integer,
            "maxRequestsPerSecond": integer,
        ])
        let tensor = object(["name": string, "datatype": string, "shape": array(integer)])
        let runtimeManifest = object(
            ["command": array(string), "env": ["type": "object", "additionalProperties": string]],
            required: ["command"])
        let versionRef = object(
            ["model": string, "version": string, "weight": integer], required: ["model", "version"])
        let spec = object(
            [
                "versions": array(versionRef),
                "shadow": object(["model": string, "version": string, "percent": number]),
                "payloadLogging": object(
                    ["sampleRate": number, "retentionHours": integer, "maxMegabytes": integer],
                    required: ["sampleRate"]),
                "instanceClass": string, "minReplicas": integer, "maxReplicas": integer,
                "batching": object(["maxBatchSize": integer, "maxQueueDelayMicros": integer]),
                "requestTimeoutMillis": integer, "maxPayloadBytes": integer,
                "autoscaling": object(["targetConcurrency": integer]), "labels": labels,
            ], required: ["versions", "instanceClass"])
        let key = object([
            "id": string, "name": string, "tenant": string, "role": role, "deployments": array(string),
            "createdBy": string, "createdAt": time, "expiresAt": time, "revokedAt": time, "lastUsedAt": time,
        ])
        var schemas: [String: Any] = [
            "Error": object(["error": string, "field": string], required: ["error"]),
            "Token": object(["token": string, "tokenType": string, "expiresAt": time, "expiresIn": integer]),
            "WhoAmI": object([
                "name": string, "tenant": string, "role": role, "credential": string, "deployments": array(string),
            ]),
            "ChangePasswordRequest": object(
                ["currentPassword": string, "newPassword": string], required: ["currentPassword", "newPassword"]),
            "TenantQuotas": quotas,
            "Tenant": object([
                "name": string, "displayName": string, "labels": labels, "suspended": boolean, "quotas": quotas,
                "usage": object([
                    "models": integer, "artifactBytes": integer, "replicas": integer, "gpuReplicas": integer,
                ]),
                "createdAt": time, "updatedAt": time,
            ]),
            "CreateTenantRequest": object(
                ["name": string, "displayName": string, "labels": labels, "quotas": quotas], required: ["name"]),
            "UpdateTenantRequest": object(["displayName": string, "labels": labels, "quotas": quotas]),
            "User": object(["username": string, "tenant": string, "role": role, "createdAt": time, "updatedAt": time]),
            "CreateUserRequest": object(
                ["username": string, "password": string, "role": role], required: ["username", "password"]),
            "UpdateUserRequest": object(["role": role], required: ["role"]),
            "ResetPasswordRequest": object(["password": string], required: ["password"]),
            "APIKey": key,
            "CreatedAPIKey": object(["key": string, "apiKey": key]),
            "CreateAPIKeyRequest": object(
                [
                    "name": string, "role": role, "deployments": array(string), "expiresAt": time,
                    "expiresInSeconds": integer,
                ],
                required: ["role"]),
            "Model": object([
                "name": string, "format": ["type": "string", "enum": ["onnx", "external"]], "description": string,
                "labels": labels, "createdAt": time, "updatedAt": time,
            ]),
            "CreateModelRequest": object(
                [
                    "name": string, "format": ["type": "string", "enum": ["onnx", "external"]], "description": string,
                    "labels": labels,
                ],
                required: ["name", "format"]),
            "UpdateModelRequest": object(["description": string, "labels": labels]),
            "Version": object([
                "model": string, "version": string,
                "state": ["type": "string", "enum": ["uploaded", "ready", "failed"]],
                "reason": string, "sha256": string, "sizeBytes": integer,
                "signature": object(["inputs": array(tensor), "outputs": array(tensor)]), "runtime": runtimeManifest,
                "createdBy": string, "createdAt": time,
            ]),
            "RuntimeManifest": runtimeManifest,
            "InstanceClass": object([
                "name": string, "vcpus": number, "memoryBytes": integer, "gpuCount": integer, "gpuKind": string,
                "pricePerSecond": number, "labels": labels,
            ]),
            "InstanceClassRequest": object(
                [
                    "vcpus": number, "memoryBytes": integer, "gpuCount": integer, "gpuKind": string,
                    "pricePerSecond": number, "labels": labels,
                ],
                required: ["vcpus", "memoryBytes"]),
            "DeploymentSpec": spec,
            "Deployment": object([
                "name": string, "tenant": string, "revision": integer, "spec": spec, "labels": labels,
                "createdAt": time,
                "updatedAt": time,
            ]),
            "Revision": object([
                "revision": integer, "spec": spec, "cause": string, "createdBy": string, "createdAt": time,
            ]),
            "DeploymentStatus": object([
                "name": string, "revision": integer, "minReplicas": integer, "maxReplicas": integer,
                "versions": array(
                    object([
                        "model": string, "version": string, "weight": integer, "shadow": boolean,
                        "desiredReplicas": integer,
                        "readyReplicas": integer,
                        "replicas": array(
                            object([
                                "replica": string, "worker": string, "state": string, "reason": string,
                                "updatedAt": time,
                            ])),
                    ])),
                "conditions": array(
                    object([
                        "type": string, "status": boolean, "reason": string, "message": string, "replica": string,
                        "restarts": integer, "exitStatus": object(["code": integer, "signal": integer]),
                        "logTail": array(string),
                    ])),
                "events": array(object(["time": time, "type": string, "reason": string, "message": string])),
            ]),
            "DeploymentLogs": object([
                "tenant": string, "deployment": string,
                "replicas": array(
                    object([
                        "replica": string, "worker": string, "model": string, "version": string, "phase": string,
                        "restarts": integer, "lines": array(string),
                    ])),
            ]),
            "AuditRecord": object([
                "id": integer, "time": time, "actor": string, "tenant": string, "action": string, "target": string,
                "requestID": string, "outcome": string, "status": integer, "address": string,
            ]),
            "UsageReport": object([
                "tenant": string, "from": time, "to": time, "requests": integer, "succeeded": integer,
                "clientErrors": integer, "serverErrors": integer, "computeMicros": integer,
                "rows": array(object([
                    "minute": time, "deployment": string, "version": string, "apiKey": string, "shadow": boolean,
                    "requests": integer, "succeeded": integer, "clientErrors": integer, "serverErrors": integer,
                    "latencyMicros": integer, "queueMicros": integer, "computeMicros": integer, "bytesIn": integer,
                    "bytesOut": integer, "batchRows": integer,
                ])),
            ]),
            "PayloadRecords": object(
                [
                    "items": array(
                        object([
                            "request_id": string, "tenant": string, "deployment": string, "version": string,
                            "timestamp": time, "status": integer,
                            "request": ref("PayloadBody"), "response": ref("PayloadBody"),
                        ]))
                ], required: ["items"]),
            "PayloadBody": object([
                "content_type": string, "bytes": integer, "body": string, "body_base64": string, "omitted": boolean,
            ]),
            "OpenAPI": ["type": "object"],
        ]
        for (name, schema) in workerSchemas { schemas[name] = schema }
        for (page, item) in [
            ("TenantPage", "Tenant"), ("UserPage", "User"), ("APIKeyPage", "APIKey"), ("ModelPage", "Model"),
            ("VersionPage", "Version"), ("InstanceClassPage", "InstanceClass"), ("DeploymentPage", "Deployment"),
            ("RevisionPage", "Revision"), ("AuditPage", "AuditRecord"), ("NodeTokenPage", "NodeToken"),
            ("WorkerPage", "Worker"),
        ] {
            schemas[page] = Self.page(item)
        }
        return schemas
    }

    /// Node tokens, workers and the worker protocol (docs/worker.md).
    static var workerSchemas: [String: Any] {
        let gpu = object(["index": integer, "name": string, "memoryBytes": integer, "uuid": string])
        let capacity = object(["cpuMillicores": integer, "memoryBytes": integer, "gpus": array(gpu)])
        let isolation = object([
            "runsAsRoot": boolean, "dedicatedUsers": boolean, "userNamespace": boolean, "pidNamespace": boolean,
            "mountNamespace": boolean, "networkNamespace": boolean, "cgroup": string,
            "cgroupControllers": array(string), "rlimits": boolean, "noNewPrivileges": boolean, "seccomp": boolean,
        ])
        let usage = object(["memoryBytesUsed": integer, "loadAverage1m": number])
        let condition = object([
            "reason": string, "message": string, "exitStatus": object(["code": integer, "signal": integer]),
            "logTail": array(string),
        ])
        let nodeToken = object([
            "id": string, "name": string, "createdBy": string, "createdAt": time, "revokedAt": time,
            "lastUsedAt": time,
        ])
        let dataPlane = object([
            "forwarded": integer, "unauthorized": integer, "unknownReplica": integer, "upstreamFailures": integer,
        ])
        return [
            "NodeToken": nodeToken,
            "CreateNodeTokenRequest": object(["name": string]),
            "CreatedNodeToken": object(["token": string, "nodeToken": nodeToken], required: ["token"]),
            "Worker": object([
                "id": string, "name": string, "state": ["type": "string", "enum": ["ready", "missing"]],
                "agentVersion": string, "capacity": capacity,
                "allocated": object(["cpuMillicores": integer, "memoryBytes": integer, "gpus": integer]),
                "isolation": isolation, "isolationGrade": string, "registeredAt": time, "lastHeartbeatAt": time,
                "usage": usage, "generation": integer, "appliedGeneration": integer,
                "replicas": array(
                    object([
                        "id": string, "tenant": string, "deployment": string, "model": string, "version": string,
                        "phase": string, "restarts": integer, "endpoint": string, "reason": string,
                        "message": string, "gpuIndices": array(integer),
                    ])),
                "dataEndpoint": string, "dataPlane": dataPlane,
            ]),
            "RegisterRequest": object(
                [
                    "nodeName": string, "agentVersion": string, "capacity": capacity, "isolation": isolation,
                    "dataEndpoint": string,
                ],
                required: ["nodeName", "agentVersion", "capacity", "isolation"]),
            "RegisterResponse": object([
                "workerID": string, "heartbeatIntervalSeconds": number, "dataSecret": string,
            ]),
            "Heartbeat": object(
                [
                    "workerID": string, "sequence": integer, "appliedGeneration": integer, "usage": usage,
                    "dataPlane": dataPlane,
                    "replicas": array(
                        object([
                            "id": string, "phase": string, "endpoint": string, "restarts": integer,
                            "condition": condition, "memoryBytes": integer, "cpuMicros": integer,
                        ])),
                ], required: ["workerID", "sequence", "appliedGeneration", "usage", "replicas"]),
            "DesiredState": object([
                "generation": integer, "heartbeatIntervalSeconds": number,
                "replicas": array(
                    object([
                        "id": string, "tenant": string, "deployment": string, "version": string, "format": string,
                        "artifact": object([
                            "sha256": string, "sizeBytes": integer, "downloadPath": string, "fileName": string,
                        ]),
                        "command": array(string),
                        "limits": object([
                            "instanceClass": string, "cpuMillicores": integer, "memoryBytes": integer,
                            "gpus": integer, "maxProcesses": integer, "maxOpenFiles": integer,
                        ]),
                        "gpuIndices": array(integer), "environment": labels,
                        "runtime": object([
                            "maxBatchSize": integer, "maxQueueDelayMicros": integer, "maxBodyBytes": integer,
                        ]),
                    ])),
            ]),
        ]
    }
}
