"""Domain XML parse/format, compared with real libvirt's output."""

import pytest

from pyvirt import api

from conftest import domxml, need_real, ours, real, unique


@need_real
def test_default_domain_xml_byte_identical(conn, rconn):
    d = api.virDomainLookupByName(conn, "test")
    r = rconn.lookupByName("test")
    for flags in (0, 1, 2):
        assert api.virDomainGetXMLDesc(d, flags) == r.XMLDesc(flags)


EXTRAS = [
    "",
    "<vcpu current='1'>4</vcpu>",
    "<title>T &amp; 'q'</title><description>DD</description><features><acpi/></features>"
    "<on_crash>restart</on_crash>",
    "<foo/>",
    "<devices><disk type='file' device='disk'><source file='/x'/>"
    "<target dev='vda' bus='virtio'/></disk></devices>",
    "<clock offset='localtime'/><on_reboot>preserve</on_reboot>",
]


@need_real
@pytest.mark.parametrize("extra", EXTRAS)
def test_define_format_as_real(conn, rconn, extra):
    name = unique("x")
    uuid = "11111111-2222-3333-4444-%012d" % int(name[1:])
    xml = domxml(name, extra, uuid=uuid)
    d = api.virDomainDefineXML(conn, xml)
    r = rconn.defineXML(xml)
    try:
        assert api.virDomainGetXMLDesc(d, 0) == r.XMLDesc(0)
    finally:
        r.undefine()


@need_real
@pytest.mark.parametrize("mem", [
    "<memory unit='GiB'>1</memory><currentMemory unit='MB'>1</currentMemory>",
    "<memory unit='b'>1000000</memory>",
    "<memory>1000</memory><currentMemory>2000</currentMemory>",
    "<memory unit='MiB'>3</memory>",
])
def test_memory_units_as_real(conn, rconn, mem):
    name = unique("m")
    xml = f"<domain type='test'><name>{name}</name>{mem}<os><type>hvm</type></os></domain>"
    d = api.virDomainDefineXML(conn, xml)
    r = rconn.defineXML(xml)
    try:
        assert api.virDomainGetMaxMemory(d) == r.maxMemory()
        assert api.virDomainGetInfo(d).memory == r.info()[2]
    finally:
        r.undefine()


def test_uuid_generated_when_missing(conn):
    d = api.virDomainDefineXML(conn, domxml(unique()))
    assert len(api.virDomainGetUUID(d)) == 16
    assert api.virDomainGetUUIDString(d) in api.virDomainGetXMLDesc(d, 0)


BAD = {
    "not well formed": "<domain",
    "unterminated": "<domain type='test'><name>a</name></domain",
    "mismatch": "<domain type='test'>\n<name>a</name>\n<memory>1</memory>\n"
                "<os><type>hvm</type></os><x></domain>",
    "garbage": "garbage",
    "empty": "",
    "wrong root": "<foo/>",
    "no name": "<domain type='test'><memory>1024</memory></domain>",
    "empty name": domxml(""),
    "slash name": domxml("a/b"),
    "no type": "<domain><name>a</name><memory>1024</memory><os><type>hvm</type></os></domain>",
    "bogus type": domxml("a").replace("'test'", "'bogus'"),
    "no os": "<domain type='test'><name>n</name><memory unit='MiB'>1</memory></domain>",
    "bad os": domxml("a").replace(">hvm<", ">foo<"),
    "bad arch": domxml("a").replace("<type>", "<type arch='bogus'>"),
    "no memory": "<domain type='test'><name>n</name><os><type>hvm</type></os></domain>",
    "zero memory": domxml("a", mem=0),
    "bad memory": domxml("a").replace(">1024<", ">abc<"),
    "bad unit": domxml("a").replace("<memory>", "<memory unit='zz'>"),
    "bad uuid": domxml("a", uuid="xyz"),
    "zero vcpu": domxml("a", "<vcpu>0</vcpu>"),
    "coredump reboot": domxml("a", "<on_reboot>coredump-destroy</on_reboot>"),
    # which check comes first: the name, the UUID, the type, the OS, memory, the name's form
    "bare": "<domain/>",
    "type, no name": "<domain type='kvm'/>",
    "bogus type, no name": "<domain type='bogus'/>",
    "slash name, no type": "<domain><name>a/b</name></domain>",
    "bad uuid, no type": "<domain><name>x</name><uuid>zz</uuid></domain>",
    "bad uuid, no name": "<domain type='kvm'><uuid>zz</uuid></domain>",
    "slash name, no os": "<domain type='test'><name>a/b</name></domain>",
    "slash name, no memory": "<domain type='test'><name>a/b</name><os><type>hvm</type></os></domain>",
    "disk without target": domxml("a", "<devices><disk type='file'><source file='/x'/></disk>"
                                       "</devices>"),
    "bare disk": domxml("a", "<devices><disk/></devices>"),
}


@need_real
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_xml_errors_as_real(conn, rconn, case):
    xml = BAD[case]
    assert ours(lambda: api.virDomainDefineXML(conn, xml)) == real(lambda: rconn.defineXML(xml))


@need_real
def test_define_clashes_as_real(conn, rconn):
    uuid = "6695eb01-f6a4-8304-79aa-97f2502e193e"
    other_name = domxml("other", uuid="6695eb01-f6a4-8304-79aa-97f2502e193f")
    same_name = domxml("test", uuid=uuid)
    for xml in (other_name, same_name):
        assert ours(lambda: api.virDomainDefineXML(conn, xml)) == \
            real(lambda: rconn.defineXML(xml))


@need_real
def test_define_flags_as_real(conn, rconn):
    for flags in (1, 2):
        name = unique()
        o = ours(lambda: api.virDomainDefineXMLFlags(conn, domxml(name), flags))
        r = real(lambda: rconn.defineXMLFlags(domxml(name), flags))
        assert o[0] == r[0] and o[1:] == r[1:] if o[0] == "err" else r[0] == "ok"
        if r[0] == "ok":
            r[1].undefine()
