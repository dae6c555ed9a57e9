# The fd-array functions convert their arguments; the test driver refuses them
# with libvirt's error, which dies as a PyVirt::Error.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

my $dom = PyVirt::connect_open('test:///default')->domain_lookup_by_name('test');

sub no_support {
    my ($err, $fn) = @_;
    isa_ok($err, 'PyVirt::Error', $fn);
    is($err->code, ERR_NO_SUPPORT, "$fn: code");
    is($err->domain, FROM_NONE, "$fn: domain");
    is($err->message, "this function is not supported by the connection driver: $fn",
       "$fn: message");
}

eval { $dom->qemu_monitor_command_with_files('{"execute":"query-status"}', [0, 1]) };
no_support($@, 'virDomainQemuMonitorCommandWithFiles');
eval { $dom->lxc_open_namespace };
no_support($@, 'virDomainLxcOpenNamespace');

# libvirt joins the namespaces in the caller's process: unknown flags make it fail
# first (pyvirt's library does not join them yet: it says not supported).
eval { $dom->lxc_enter_namespace([-1], 1) };
isa_ok($@, 'PyVirt::Error', 'lxc_enter_namespace');
is($@->domain, FROM_NONE, 'lxc_enter_namespace: domain');
like($@->message, qr/virDomainLxcEnterNamespace$/, 'lxc_enter_namespace: message');

done_testing;
