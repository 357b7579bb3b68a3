#include "qscale/commands.h"
int command_doctor(int argc, char **argv)
{
	return 1;
}
