(* Typed parameters in and out. *)
open Pyvirt
open Harness

let () =
  let conn = connect_open ~name:"test:///default" () in
  let dom = Connect.domain_lookup_by_name conn "test" in
  test "scheduler parameters in and out" (fun () ->
      (* libvirt's test driver accepts the weight but keeps reporting 50. *)
      Domain.set_scheduler_parameters dom [domain_scheduler_weight, Uint 200];
      match List.assoc domain_scheduler_weight (Domain.get_scheduler_parameters dom) with
      | Uint 50 -> ()
      | _ -> check "weight is Uint 50" false);
  test "memory parameters are uint64" (fun () ->
      let params = Domain.get_memory_parameters dom in
      check "three" (List.length params = 3);
      List.iter (function _, Ullong _ -> () | f, _ -> check (f ^ " is Ullong") false) params);
  test "a wrong type is refused" (fun () ->
      check "error" (error_code (fun () ->
          Domain.set_scheduler_parameters dom [domain_scheduler_weight, String "x"]) <> 0));
  finish ()
