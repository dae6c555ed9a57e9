#!/usr/bin/perl
# list_domains: every domain of test:///default with its state (shared example).
use strict;
use warnings;
use PyVirt;

my %state_names = (
    PyVirt::DOMAIN_NOSTATE, "no state", PyVirt::DOMAIN_RUNNING, "running",
    PyVirt::DOMAIN_BLOCKED, "blocked", PyVirt::DOMAIN_PAUSED, "paused",
    PyVirt::DOMAIN_SHUTDOWN, "shutting down", PyVirt::DOMAIN_SHUTOFF, "shut off",
    PyVirt::DOMAIN_CRASHED, "crashed", PyVirt::DOMAIN_PMSUSPENDED, "suspended",
);

my $conn = eval { PyVirt::connect_open("test:///default") } or do { print "error: $@\n"; exit 1 };
my @lines;
for my $dom (eval { $conn->list_all_domains } or do { print "error: $@\n"; exit 1 }) {
    my ($state) = $dom->get_state;
    my $info = $dom->get_info;
    push @lines, sprintf("%-10s %-10s vcpus=%d memory=%dKiB", $dom->get_name,
                         $state_names{$state}, $info->{nrVirtCpu}, $info->{maxMem});
}
@lines = sort @lines;
printf "%d domain(s)\n", scalar @lines;
print "$_\n" for @lines;
