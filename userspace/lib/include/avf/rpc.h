/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libavf RPC client: typed calls to a service that a payload serves with
 * AVmPayload_runVsockRpcServer() (VirtualMachine.connectToVsockServer on
 * Android, where the interface is AIDL and the transport Binder RPC).
 *
 * Interfaces are protobuf services compiled with protoc-c; messages are
 * protobuf-c's, the framing is avf's (Documentation/rpc.rst). Link with
 * -lavf -lprotobuf-c (pkg-config avf).
 *
 *   struct avf_rpc_client *c;
 *   avf_vm_connect_to_vsock_server(vm, 5100, &calc__calculator__descriptor, &c);
 *   Calc__AddRequest req = CALC__ADD_REQUEST__INIT;  req.a = 2; req.b = 3;
 *   Calc__AddReply *rep;
 *   int st = avf_rpc_call(c, CALC_METHOD_ADD, &req.base, (ProtobufCMessage **)&rep, 1000);
 *   if (st == AVF_RPC_OK) { use rep->sum; protobuf_c_message_free_unpacked(&rep->base, NULL); }
 *   else  printf("%s: %s\n", avf_rpc_status_name(st), avf_rpc_client_last_error(c));
 *   avf_rpc_client_close(c);
 *
 * Threads: a client may be shared by threads; its calls are serialized
 * (one in flight per connection). Open several clients for parallel calls.
 */
#ifndef AVF_RPC_H
#define AVF_RPC_H

#include <stdint.h>

#include <avf/avf.h>
#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Result of an RPC call. 0..7 come from the server (the wire statuses of
 * Documentation/rpc.rst); the rest are the client's own.
 */
enum avf_rpc_status {
	AVF_RPC_OK = 0,
	AVF_RPC_UNKNOWN_METHOD = 1,	/* the server's service has no such method */
	AVF_RPC_BAD_MESSAGE = 2,	/* request (server) or reply (client) did not decode */
	AVF_RPC_APP_ERROR = 3,		/* the method failed: avf_rpc_client_app_code(), _last_error() */
	AVF_RPC_DEADLINE_EXCEEDED = 4,	/* no reply within the timeout (the call may still run) */
	AVF_RPC_TOO_BIG = 5,		/* a frame above AVF_RPC_MAX_MESSAGE; the connection closes */
	AVF_RPC_BAD_FRAME = 6,		/* a peer sent bytes that are not avf RPC; connection closes */
	AVF_RPC_INTERNAL = 7,		/* the server could not run the call */
	AVF_RPC_PEER_GONE = 16,		/* the connection closed or failed (payload exited, VM stopped) */
	AVF_RPC_INVALID = 17,		/* bad argument: NULL, method index, message type */
	AVF_RPC_NOMEM = 18,		/* out of memory in the client */
};

/* Largest message either way, in bytes (the frame's body limit). */
#define AVF_RPC_MAX_MESSAGE (256u * 1024)

struct avf_rpc_client;

/*
 * VirtualMachine.connectToVsockServer(port): connects to @port of the
 * running @vm with avf_vm_connect_vsock() and returns, in *@out, a client
 * for @service (the generated FOO__descriptor, which must be the one the
 * payload serves). Returns AVF_OK or the avf_error of avf_vm_connect_vsock
 * (message in avf_vm_last_error()); AVF_E_NOMEM; AVF_E_INVALID for NULLs.
 */
AVF_API int avf_vm_connect_to_vsock_server(struct avf_vm *vm, uint32_t port,
					   const ProtobufCServiceDescriptor *service,
					   struct avf_rpc_client **out);

/*
 * A client over an already connected stream @fd (owned by the client from
 * then on, closed by avf_rpc_client_close() or on failure). For other
 * transports and for tests. NULL on failure (errno set).
 */
AVF_API struct avf_rpc_client *avf_rpc_client_from_fd(int fd,
						      const ProtobufCServiceDescriptor *service);

/*
 * Calls method @method (index into @service->methods, also the generated
 * order of the .proto) with @input, an instance of that method's input
 * message, waiting at most @timeout_ms (<= 0: no deadline; the deadline
 * also travels to the server). On AVF_RPC_OK *@output holds the reply, to
 * free with protobuf_c_message_free_unpacked(*output, NULL); otherwise
 * *@output is NULL and the return value says why; avf_rpc_client_last_error()
 * holds a message and, for AVF_RPC_APP_ERROR, avf_rpc_client_app_code()
 * the service's code. After PEER_GONE, TOO_BIG or BAD_FRAME the
 * connection is closed and every later call returns AVF_RPC_PEER_GONE; after
 * DEADLINE_EXCEEDED the client stays usable (a late reply is discarded).
 */
AVF_API int avf_rpc_call(struct avf_rpc_client *c, unsigned method,
			 const ProtobufCMessage *input, ProtobufCMessage **output,
			 int timeout_ms);

/* The application error code of the last call that returned AVF_RPC_APP_ERROR (else 0). */
AVF_API int32_t avf_rpc_client_app_code(const struct avf_rpc_client *c);

/* A message about the last failed call ("" after a successful one); never NULL. */
AVF_API const char *avf_rpc_client_last_error(const struct avf_rpc_client *c);

/* "APP_ERROR", "PEER_GONE", ...; never NULL. */
AVF_API const char *avf_rpc_status_name(int status);

/*
 * A ProtobufCService whose invoke() makes a blocking avf_rpc_call() with
 * @timeout_ms, so that protoc-c's generated client stubs
 * (calc__calculator__add(service, &req, closure, data)) work over this
 * client: the closure gets the reply, or NULL on any failure (the status
 * is then avf_rpc_client_last_status()). Owned by the client.
 */
AVF_API ProtobufCService *avf_rpc_client_service(struct avf_rpc_client *c, int timeout_ms);

/* The result of the client's last call (enum avf_rpc_status). */
AVF_API int avf_rpc_client_last_status(const struct avf_rpc_client *c);

/* Closes the connection and frees the client. NULL is ignored. */
AVF_API void avf_rpc_client_close(struct avf_rpc_client *c);

#ifdef __cplusplus
}
#endif

#endif /* AVF_RPC_H */
