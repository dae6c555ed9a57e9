#!/usr/bin/perl
# events: watch lifecycle events with the default event loop (shared example).
use strict;
use warnings;
use PyVirt;

my $xml = "<domain type='test'><name>watched</name><memory>524288</memory><vcpu>1</vcpu>"
        . "<os><type>hvm</type></os></domain>";

sub fail { print "error: $_[0]\n"; exit 1 }

eval { PyVirt::event_register_default_impl(); 1 } or fail($@);
my $conn = eval { PyVirt::connect_open("test:///default") } or fail($@);
my @lines;
my $id = eval {
    $conn->domain_event_register_any(undef, PyVirt::DOMAIN_EVENT_ID_LIFECYCLE, sub {
        my ($c, $dom, $event, $detail) = @_;
        push @lines, sprintf("event: domain=%s event=%d detail=%d", $dom->get_name, $event, $detail);
    });
};
fail($@) unless defined $id;
my $dom = eval { $conn->domain_define_xml($xml) } or fail($@);
eval { $dom->$_ } for qw(create suspend resume destroy undefine);
$dom->free;

# Callbacks run in the thread that runs the event loop: this one.
local $SIG{ALRM} = sub { print "timeout\n"; exit 1 };
alarm 10;
my $printed = 0;
while ($printed < 6) {
    PyVirt::event_run_default_impl() unless @lines;
    while (@lines && $printed < 6) {
        print shift(@lines), "\n";
        $printed++;
    }
}
alarm 0;
eval { $conn->domain_event_deregister_any($id); 1 } or print "error: $@\n";
print "done\n";
