#!/usr/bin/perl
# lifecycle: define, start, suspend, resume, stop and undefine a domain (shared example).
use strict;
use warnings;
use PyVirt;

my $xml = <<'XML';
<domain type='test'>
  <name>example</name>
  <memory>524288</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
</domain>
XML
chomp $xml;

sub state {
    my ($dom) = @_;
    my ($state) = eval { $dom->get_state };
    return defined $state ? $state : -1;
}

sub check {
    my ($what, $code) = @_;
    my @r = eval { $code->() };
    if ($@) {
        print "$what: error: $@\n";
        exit 1;
    }
    return wantarray ? @r : $r[0];
}

my $conn = check("open", sub { PyVirt::connect_open("test:///default") });
my $dom = check("define", sub { $conn->domain_define_xml($xml) });
printf "defined: state=%d active=%s persistent=%s\n", state($dom),
    $dom->is_active ? "true" : "false", $dom->is_persistent ? "true" : "false";
check("start", sub { $dom->create });
printf "started: state=%d\n", state($dom);
check("suspend", sub { $dom->suspend });
printf "suspended: state=%d\n", state($dom);
check("resume", sub { $dom->resume });
printf "resumed: state=%d\n", state($dom);
check("stop", sub { $dom->destroy });
printf "stopped: state=%d\n", state($dom);
eval { $dom->destroy };
my $e = $@;
printf "stop again: code=%d domain=%d message=%s\n", $e->code, $e->domain, $e->message;
check("undefine", sub { $dom->undefine });
$dom->free;
eval { $conn->domain_lookup_by_name("example") };
$e = $@;
printf "lookup after undefine: code=%d domain=%d message=%s\n", $e->code, $e->domain, $e->message;
