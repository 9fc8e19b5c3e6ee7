# Helpers shared by bench/gateway/run.sh and instructions.sh (sourced; needs python3 and curl).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_for() {  # url [curl args...]: until it answers 2xx (120 s)
  local url=$1; shift
  for _ in $(seq 1 1200); do curl -sf -o /dev/null "$@" "$url" && return 0; sleep 0.1; done
  return 1
}
# With S (serve's base URL) and TOKEN (an admin token) set:
api() { curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
deploy_model() {  # tenant name file: ONNX model, its version 1 artifact, a one-replica cpu-small deployment
  # batching up to BATCH rows (default 64; 1 = the deployments' default, no batching), no delay
  api -X POST "$S/v1/tenants/$1/models" -d "{\"name\":\"$2\",\"format\":\"onnx\"}" >/dev/null
  curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' -T "$3" \
    "$S/v1/tenants/$1/models/$2/versions/1/artifact" >/dev/null
  api -X PUT "$S/v1/tenants/$1/deployments/$2" \
    -d "{\"versions\":[{\"model\":\"$2\",\"version\":\"1\",\"weight\":1}],\"instanceClass\":\"cpu-small\",\"minReplicas\":1,\"maxReplicas\":1,\"batching\":{\"maxBatchSize\":${BATCH:-64},\"maxQueueDelayMicros\":0}}" >/dev/null
}
