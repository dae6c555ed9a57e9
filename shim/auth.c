/* virConnectAuthPtrDefault: exported data, statically initialised so that it is
 * valid before any Python runs. Its callback prompts on the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "pyvirt_shim.h"

static int default_credtypes[] = {
    VIR_CRED_AUTHNAME, VIR_CRED_ECHOPROMPT, VIR_CRED_REALM,
    VIR_CRED_PASSPHRASE, VIR_CRED_NOECHOPROMPT, VIR_CRED_EXTERNAL,
};

static char *read_answer(int echo)
{
    char buf[1024];
    struct termios old, quiet;
    int tty = !echo && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, sizeof(buf), stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stdout);
    }
    if (!got)
        return NULL;
    buf[strcspn(buf, "\n")] = '\0';
    return strdup(buf);
}

static int default_callback(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata)
{
    (void)cbdata;
    for (unsigned int i = 0; i < ncred; i++) {
        int echo;
        switch (cred[i].type) {
        case VIR_CRED_AUTHNAME: case VIR_CRED_ECHOPROMPT: case VIR_CRED_REALM:
            echo = 1;
            break;
        case VIR_CRED_PASSPHRASE: case VIR_CRED_NOECHOPROMPT:
            echo = 0;
            break;
        case VIR_CRED_EXTERNAL:
            continue;   /* nothing to ask: the transport authenticates */
        default:
            return -1;
        }
        if (cred[i].prompt)
            printf("%s: ", cred[i].prompt);
        fflush(stdout);
        cred[i].result = read_answer(echo);
        if (!cred[i].result) {
            if (!cred[i].defresult)
                return -1;
            cred[i].result = strdup(cred[i].defresult);
        }
        cred[i].resultlen = strlen(cred[i].result);
    }
    return 0;
}

static virConnectAuth default_auth = {
    default_credtypes,
    sizeof(default_credtypes) / sizeof(default_credtypes[0]),
    default_callback,
    NULL,
};

__attribute__((visibility("default"))) virConnectAuthPtr virConnectAuthPtrDefault = &default_auth;
