"""virDomainGetCPUStats: typed parameters laid out per CPU (nparams for each of
ncpus), with its two counting calls. Its shape is its own, so it is written by
hand rather than given a generic kind."""

from _pyvirt_libvirt_cffi import ffi

from . import runtime as rt

_F = rt.Fn("virDomainGetCPUStats", rt.VIR_FROM_DOMAIN)
_ALL = 0x7FFFFFFF


@ffi.def_extern(name="virDomainGetCPUStats", error=-1)
def _virDomainGetCPUStats(domain, params, nparams, start_cpu, ncpus, flags):
    try:
        rt.enter()
        from pyvirt import api
        dom = rt.obj(domain, "virDomainPtr", _F)
        asking = params == ffi.NULL and nparams == 0
        if asking and start_cpu == 0 and ncpus == 0:   # how many CPUs
            return len(api.virDomainGetCPUStats(dom, 0, _ALL, flags))
        if start_cpu == -1:                            # the total: one list
            per_cpu = [api.virDomainGetCPUStats(dom, -1, ncpus, flags)]
        else:
            per_cpu = api.virDomainGetCPUStats(dom, start_cpu, ncpus, flags)
        if asking:                                     # how many per CPU
            return max((len(p) for p in per_cpu), default=0)
        if params == ffi.NULL:
            raise rt.null_arg("params", _F)
        filled = 0
        for cpu, plist in enumerate(per_cpu[:ncpus]):
            for j, param in enumerate(plist[:nparams]):
                rt.set_param(params[cpu * nparams + j], *param)
            filled = max(filled, min(len(plist), nparams))
        return filled
    except BaseException as e:
        rt.fail(e, _F)
        return -1
