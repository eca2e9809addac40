/*
 * main.c - dgen-api: the HTTP API as a FastCGI responder or CGI program.
 * Everything is in the library (server.c); see dgen-api --help.
 */
#include "config.h"

#include "dgen/api.h"

int main(int argc, char **argv)
{
	return api_main(argc, argv);
}
