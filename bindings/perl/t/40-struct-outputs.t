# Struct-array outputs as lists of hashes; prints the same OUT lines as the Go
# package's TestStructOutputs (tests/bindings compares them). PYVIRT_GUEST_URI
# selects a guest-info host file.
use strict;
use warnings;
use Test::More;
use PyVirt ':constants';

my $uri = $ENV{PYVIRT_GUEST_URI} || 'test:///default';
my $conn = PyVirt::connect_open($uri);
my $dom = $conn->domain_lookup_by_name($uri eq 'test:///default' ? 'test' : 'g1');

my @stats = $dom->memory_stats(DOMAIN_MEMORY_STAT_NR);
print "OUT memstat $_->{tag} $_->{val}\n" for @stats;
ok(!grep({ ref($_) ne 'HASH' } @stats), 'memory_stats: a list of hashes');

my @errs = $dom->get_disk_errors(8);
print "OUT diskerror $_->{disk} $_->{error}\n" for @errs;
ok(1, 'get_disk_errors');

my @fs = eval { $dom->get_fs_info() };
if ($@) { print "OUT fs error ", $@->code, "\n" }
else { print "OUT fs $_->{mountpoint} $_->{name} $_->{fstype} [@{$_->{devAlias}}]\n" for @fs }

eval { $dom->get_security_label_list() };
print "OUT seclabels error ", $@->code, "\n" if $@;

my $net = $conn->network_lookup_by_name('default');
my @leases = eval { $net->get_dhcp_leases(undef) };
if ($@) { print "OUT leases error ", $@->code, "\n" }
else {
    print "OUT lease $_->{iface} $_->{type} $_->{mac} $_->{ipaddr} $_->{prefix} "
        . ($_->{hostname} // '') . "\n" for @leases;
}
ok(1, 'struct outputs');
done_testing();
