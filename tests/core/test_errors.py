from pyvirt import errors
from pyvirt.errors import ErrorDomain, ErrorNumber, VirtError

from conftest import libvirt, need_real


def test_enum_values_match_header():
    assert ErrorNumber.VIR_ERR_NO_DOMAIN == 42
    assert ErrorNumber.VIR_ERR_OPERATION_INVALID == 55
    assert ErrorNumber.VIR_ERR_MULTIPLE_DOMAINS == 110
    assert ErrorDomain.VIR_FROM_TEST == 12
    assert ErrorDomain.VIR_FROM_CH == 72


@need_real
def test_enum_values_match_real_binding():
    for member in list(ErrorNumber) + list(ErrorDomain):
        assert getattr(libvirt, member.name) == member.value, member.name


def test_report_bare_and_detailed():
    e = errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN, ErrorDomain.VIR_FROM_TEST)
    assert (e.message, e.str1, e.str2, e.int1) == ("Domain not found", "Domain not found", None, -1)
    e = errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN, ErrorDomain.VIR_FROM_TEST,
                      "no domain with matching name 'x'")
    assert e.message == "Domain not found: no domain with matching name 'x'"
    assert e.str1 == "Domain not found: %s" and e.str2 == "no domain with matching name 'x'"
    assert e.level == errors.ErrorLevel.VIR_ERR_ERROR


def test_prefix_styles():
    assert errors.error_message(ErrorNumber.VIR_ERR_DOM_EXIST, "x") == "domain x exists already"
    assert errors.error_message(ErrorNumber.VIR_ERR_XML_DETAIL, "raw") == "raw"
    assert errors.error_message(ErrorNumber.VIR_ERR_NO_CONNECT, "foo:///") == \
        "no connection driver available for foo:///"


def test_check_flags():
    errors.check_flags(3, 3, "testX")
    try:
        errors.check_flags(0x100004, 3, "testDomainGetXMLDesc")
    except VirtError as e:
        assert e.message == "unsupported flags (0x100004) in function testDomainGetXMLDesc"
        assert (e.code, e.domain, e.str1, e.str2, e.int1, e.int2) == \
            (8, 12, "testDomainGetXMLDesc", "flags", 0, 0)
    else:
        raise AssertionError("no error")


def test_no_support_wording():
    e = errors.no_support("virDomainBlockCommit")
    assert (e.code, e.domain, e.message) == (3, 20, "this function is not supported by the "
                                             "connection driver: virDomainBlockCommit")
