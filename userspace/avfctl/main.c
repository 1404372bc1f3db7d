// SPDX-License-Identifier: GPL-2.0
/*
 * avfctl: manage and run avf VMs from the command line.
 * The verbs live in cmd-<verb>.c and are listed in commands.c.
 */
#include "avfctl.h"

int main(int argc, char **argv)
{
	return avfctl_main(argc, argv);
}
