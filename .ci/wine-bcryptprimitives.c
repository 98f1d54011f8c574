/* bcryptprimitives.dll for Wine 8 (Debian 12's), which lacks it: Go 1.24 and
   later take their random numbers from its ProcessPrng (Windows 10's) and
   stop without it. .ci/dist-check builds this into its own Wine prefix to run
   the Windows release binary; it is no part of any release. RtlGenRandom is
   the same system generator under its older name. */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
