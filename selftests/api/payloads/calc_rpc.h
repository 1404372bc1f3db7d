/* SPDX-License-Identifier: GPL-2.0 */
/* What the rpc-calc payload and its host callers share besides calc.proto. */
#ifndef AVF_TEST_CALC_RPC_H
#define AVF_TEST_CALC_RPC_H

#define CALC_PORT	5100	/* the Calculator service */
#define CALC_BAD_PORT	5101	/* test hook: a server that answers with broken frames */

/* Method indices: the order of service Calculator in calc.proto. */
enum calc_method {
	CALC_ADD = 0,
	CALC_DIVIDE = 1,
	CALC_ECHO = 2,
	CALC_SLEEP = 3,
	CALC_STATS = 4,
	CALC_EXIT = 5,
};

/* Application error codes of the Calculator. */
#define CALC_EDIVZERO	1	/* Divide by 0 */
#define CALC_EOVERFLOW	2	/* INT64_MIN / -1 */

/*
 * What the broken server on CALC_BAD_PORT answers, by the method index of
 * the request it read: a header announcing a body above the limit, bytes
 * that are no frame, a valid frame whose body is no protobuf message.
 */
#define CALC_BAD_TOO_BIG	CALC_ADD
#define CALC_BAD_GARBAGE	CALC_DIVIDE
#define CALC_BAD_BODY		CALC_ECHO

#endif /* AVF_TEST_CALC_RPC_H */
