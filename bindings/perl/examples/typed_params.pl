#!/usr/bin/perl
# typed_params: read a domain's typed parameters (shared example).
use strict;
use warnings;
use PyVirt;

# The Go binding's type names, so that every language prints the same.
my %type_names = (
    PyVirt::TYPED_PARAM_INT, "int32", PyVirt::TYPED_PARAM_UINT, "uint32",
    PyVirt::TYPED_PARAM_LLONG, "int64", PyVirt::TYPED_PARAM_ULLONG, "uint64",
    PyVirt::TYPED_PARAM_DOUBLE, "float64", PyVirt::TYPED_PARAM_BOOLEAN, "bool",
    PyVirt::TYPED_PARAM_STRING, "string",
);

sub show {
    my ($what, $code) = @_;
    my $params = eval { $code->() };
    if ($@) {
        printf "%s: error code=%d message=%s\n", $what, $@->code, $@->message;
        return;
    }
    printf "%s: %d parameter(s)\n", $what, scalar keys %$params;
    for my $field (sort keys %$params) {
        my $type = $params->type_of($field);
        my $value = $params->{$field};
        $value = $value ? "true" : "false" if $type == PyVirt::TYPED_PARAM_BOOLEAN;
        printf "  %s = %s (%s)\n", $field, $value, $type_names{$type};
    }
}

my $conn = eval { PyVirt::connect_open("test:///default") } or do { print "error: $@\n"; exit 1 };
my $dom = eval { $conn->domain_lookup_by_name("test") } or do { print "error: $@\n"; exit 1 };
my ($kind, $n) = eval { $dom->get_scheduler_type };
if ($@) {
    printf "scheduler: error code=%d message=%s\n", $@->code, $@->message;
} else {
    printf "scheduler: %s with %d parameter(s)\n", $kind, $n;
}
show("scheduler parameters", sub { $dom->get_scheduler_parameters });
show("memory parameters", sub { $dom->get_memory_parameters(0) });
