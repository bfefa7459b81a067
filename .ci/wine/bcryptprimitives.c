/*
 * A stand-in for Windows' bcryptprimitives.dll, for Wine 8.0, which has none.
 *
 * Rust's std (1.78 and later) takes its random bytes (HashMap's keys) from ProcessPrng in
 * bcryptprimitives.dll, so under a Wine without that DLL no Rust program starts. This one
 * exports ProcessPrng and fills the buffer from RtlGenRandom (advapi32's SystemFunction036),
 * the generator Wine has. .ci/windows builds it with mingw and copies it into its Wine
 * prefix's system32; it is never needed on real Windows.
 */
#include <windows.h>
#include <ntsecapi.h> /* RtlGenRandom, a name for SystemFunction036 */

/* Like Windows' ProcessPrng: fills data[0..len) with random bytes. RtlGenRandom takes a
 * 32-bit length, so a larger buffer is filled a part at a time. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG part = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, part))
            return FALSE;
        data += part;
        len -= part;
    }
    return TRUE;
}
