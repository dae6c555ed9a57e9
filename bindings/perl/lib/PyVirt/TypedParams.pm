package PyVirt::TypedParams;

# Typed parameters read from libvirt: a hash (field => value), blessed so that each
# field's VIR_TYPED_PARAM_* type stays known; passing the hash back to libvirt
# (possibly changed) keeps those types.  A plain hash works as input too: a value
# may be [PyVirt::TYPED_PARAM_UINT, 50] to name its type, otherwise the type is
# guessed (integer >= 0: ULLONG, < 0: LLONG, other number: DOUBLE, else STRING).

use strict;
use warnings;
use Scalar::Util qw(refaddr);

# refaddr of the hash -> { field => type }, kept by the XS code.
our %TYPES;

sub type_of {
    my ($self, $field) = @_;
    my $types = $TYPES{refaddr $self} or return undef;
    return $types->{$field};
}

sub DESTROY {
    delete $TYPES{refaddr $_[0]};
}

1;
