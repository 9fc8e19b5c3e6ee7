/// Header fields between the gateway and a worker's data-plane forwarder
/// (`plinth worker --data-listen`). The forwarder strips them before relaying to the replica.
public enum DataPlaneHeaders {
    /// Which replica on the node the request is for (its id).
    public static let replica = "Plinth-Replica"
    /// `Bearer <data-plane secret>`: the secret the control plane issued to the node.
    public static let authorization = "Authorization"
    /// Set to "1" on the forwarder's own 503 when nothing reached a replica (unknown or stopped
    /// replica, refused socket): the gateway then retries elsewhere, as for a refused connection.
    public static let notRelayed = "Plinth-Not-Relayed"
}
