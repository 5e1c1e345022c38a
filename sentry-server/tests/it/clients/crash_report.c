// Linked into the native fixture (fixtures/native/crash.c) by the native
// symbolication test: on SIGSEGV it prints, as JSON, where the executable
// was loaded, its size in memory and the stack's addresses, innermost
// first (the faulting instruction, then each return address, by walking
// the frame pointers), as a crash reporter would send them; then exits 1.
#define _GNU_SOURCE
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

static uintptr_t image_start, image_end;

static int find_executable(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    // The executable is listed first, with an empty name.
    image_start = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type == PT_LOAD) {
            uintptr_t end = info->dlpi_addr + header->p_vaddr + header->p_memsz;
            if (end > image_end) {
                image_end = end;
            }
        }
    }
    return 1;
}

static void report(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)info;
    ucontext_t *state = context;
    uintptr_t pc = (uintptr_t)state->uc_mcontext.gregs[REG_RIP];
    uintptr_t *frame = (uintptr_t *)state->uc_mcontext.gregs[REG_RBP];
    printf("{\"image_addr\": \"0x%lx\", \"image_size\": %lu, \"frames\": [\"0x%lx\"",
           (unsigned long)image_start, (unsigned long)(image_end - image_start),
           (unsigned long)pc);
    while (frame != NULL) {
        uintptr_t return_address = frame[1];
        if (return_address < image_start || return_address >= image_end) {
            break;
        }
        printf(", \"0x%lx\"", (unsigned long)return_address);
        frame = (uintptr_t *)frame[0];
    }
    printf("]}\n");
    fflush(stdout);
    _exit(1);
}

__attribute__((constructor)) static void install(void) {
    dl_iterate_phdr(find_executable, NULL);
    struct sigaction action = {0};
    action.sa_sigaction = report;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, NULL);
}
