/* SPDX-License-Identifier: GPL-2.0 */
/* libvm_payload's RPC server, inside: what its unit tests and fuzzer drive. */
#ifndef AVF_PAYLOAD_RPC_SERVER_H
#define AVF_PAYLOAD_RPC_SERVER_H

struct ProtobufCService;

/*
 * Serves one connected stream @fd with @service until the peer closes it,
 * the connection fails or a framing error ends it (Documentation/rpc.rst);
 * closes @fd. AVmPayload_runVsockRpcServer() runs this on a thread per
 * host connection.
 */
void avf_rpc_serve_conn(struct ProtobufCService *service, int fd);

#endif /* AVF_PAYLOAD_RPC_SERVER_H */
