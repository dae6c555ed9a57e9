"""A sweep of the QEMU driver's read-mostly entry points on one domain
running, paused and shut off, and of the connection's, compared live with
real libvirt 9.0's embed driver: what each returns, or its error's code,
domain and message.  Left out: what differs between two runs of the same
guest or host (CPU time, RSS, free memory: only their shape is compared)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import reallibvirt
from support import pyvirt_module
from qemutest import domxml, kernels, root  # noqa: F401,F811 (fixtures)

libvirt = pyvirt_module()
MAC = "52:54:00:11:22:33"

CALLS = [
    "state()", "maxMemory()", "maxVcpus()", "OSType()", "hostname()",
    "blockStats('vda')", "blockStatsFlags('vda')", "interfaceStats(MAC)", "jobInfo()",
    "jobStats()", "jobStats(1)", "schedulerType()", "schedulerParameters()", "blkioParameters()",
    "memoryParameters()", "numaParameters()", "getTime()", "hasManagedSaveImage()",
    "isUpdated()", "autostart()", "emulatorPinInfo()", "vcpuPinInfo()", "ioThreadInfo()",
    "launchSecurityInfo()", "perfEvents()", "controlInfo()", "migrateGetMaxDowntime()",
    "migrateGetMaxSpeed()", "migrateGetMaxSpeed(1)", "migrateGetCompressionCache()",
    "messages()", "securityLabel()", "diskErrors()", "vcpusFlags()", "vcpusFlags(1)",
    "vcpusFlags(2)", "vcpusFlags(4)", "blockIoTune('vda')", "interfaceParameters(MAC)",
    "metadata(0, None)", "metadata(2, 'http://x/')", "fsInfo()", "guestVcpus()",
    "hostname(1)", "ioThreadInfo(2)", "numaParameters(2)", "memoryParameters(2)",
    "blkioParameters(2)", "schedulerParametersFlags(2)", "isActive()", "isPersistent()",
    "guestInfo()", "interfaceAddresses(2)", "authorizedSSHKeysGet('root')", "abortJob()",
    "migrateSetMaxDowntime(100)", "migrateGetMaxDowntime()", "migrateSetMaxSpeed(10)",
    "migrateGetMaxSpeed()", "vcpuPinInfo(2)", "blockPeek('vda', 0, 16).hex()",
    "memoryPeek(0, 16, 1).hex()", "setUserPassword('root', 'x')", "fSTrim(None, 0)",
    "fsFreeze()", "fsThaw()", "setTime({'seconds': 1}, 0)", "injectNMI()", "pMWakeup()",
    "screenshot(c.newStream(0), 0)", "openChannel(None, c.newStream(0), 0)",
    "agentSetResponseTimeout(5)", "migrateSetCompressionCache(1 << 20)",
    "migrateGetCompressionCache()", "migrateSetCompressionCache(12345)", "blockJobInfo('vda')",
    "blockJobInfo('vdz')", "blockJobInfo('vda', 1)", "setVcpu('0', 1, 0)",
]


def questions(kernel: Path, disk: Path) -> dict[str, str]:
    extra = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>"
             f"<interface type='user'><mac address='{MAC}'/><model type='virtio'/></interface>"
             "<serial type='pty'/><memballoon model='none'/>")
    qs = {"a0": f"c.defineXML({domxml('gt_sweep', kernel, extra)!r}).create()"}

    def sweep(prefix: str) -> None:
        for i, call in enumerate(CALLS):
            qs[f"{prefix}_{i:03d}_{call}"] = \
                f"(lambda d, MAC={MAC!r}: d.{call})(c.lookupByName('gt_sweep'))"
    sweep("b_running")
    qs["c0"] = "c.lookupByName('gt_sweep').suspend()"
    sweep("c_paused")
    qs["d0"] = "c.lookupByName('gt_sweep').destroy()"
    sweep("d_off")
    qs["z0"] = "c.lookupByName('gt_sweep').undefine()"
    return qs


def test_getters_as_real_libvirt(root, kernels, tmp_path):  # noqa: F811
    real_disk, my_disk = tmp_path / "real.raw", tmp_path / "mine.raw"
    for disk in (real_disk, my_disk):
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(disk), "4M"], check=True)
    real = reallibvirt.ask(questions(kernels["idle"], real_disk))
    mine = reallibvirt.ask_pyvirt(libvirt, root, questions(kernels["idle"], my_disk))
    mine = json.loads(json.dumps(mine).replace(str(my_disk), str(real_disk)))
    real = json.loads(json.dumps(real))
    assert {k: (v, real[k]) for k, v in mine.items() if v != real[k]} == {}


CONNECTION = [
    "getType()", "getVersion() > 0", "getLibVersion()", "getURI().split('?')[0]", "isAlive()",
    "isSecure()", "isEncrypted()", "getMaxVcpus(None)", "getMaxVcpus('kvm')",
    "getMaxVcpus('qemu')", "getMaxVcpus('bogus')", "listDomainsID()", "numOfDomains()",
    "listDefinedDomains()", "numOfDefinedDomains()", "getSysinfo()",
    "getCPUModelNames('x86_64')[:3]", "getInfo()[0]", "getStoragePoolCapabilities()",
    "listAllNetworks()", "listNetworks()", "numOfNetworks()", "listAllStoragePools()",
    "numOfStoragePools()", "listAllSecrets()", "numOfSecrets()", "listAllNWFilters()",
    "listAllInterfaces()", "listAllDevices()", "numOfDevices(None)", "listAllNWFilterBindings()",
    "networkLookupByName('default')", "storagePoolLookupByName('default')",
    "nodeDeviceLookupByName('computer')", "getFreeMemory() > 0",
    "getCellsFreeMemory(0, 1).__len__()", "getSecurityModel()", "setKeepAlive(5, 3)",
    "interfaceLookupByName('lo')", "nwfilterLookupByName('clean-traffic')",
    "getCPUMap()[0] > 0", "getCapabilities().count('<guest>')", "lookupByID(999)",
    "lookupByName('nosuch')", "lookupByUUIDString('00000000-0000-0000-0000-000000000001')",
    "defineXML('<domain/>')", "createXML('<bogus/>', 0)", "getAllDomainStats(1, 0)",
    "baselineCPU([], 0)", "changeBegin()",
]


def test_connection_calls_as_real_libvirt(root):  # noqa: F811
    qs = {f"c_{i:03d}": f"c.{call}" for i, call in enumerate(CONNECTION)}
    real = reallibvirt.ask(qs)
    mine = reallibvirt.ask_pyvirt(libvirt, root, qs)
    mine, real = json.loads(json.dumps(mine)), json.loads(json.dumps(real))
    assert {CONNECTION[int(k[2:])]: (v, real[k]) for k, v in mine.items() if v != real[k]} == {}
